namespace Safemount.Shared.Protocol;

/// <summary>How the helper's side of the connection ended: ABORT {reason}, or a plain close.</summary>
public readonly record struct HelperEnd(bool Aborted, string? Reason);
