namespace Safemount.Shared.Protocol;

/// <summary>HELLO flags (u32). Unknown bits are ignored by the service.</summary>
[Flags]
public enum HelloFlags : uint
{
    None = 0,

    /// <summary>mount -s: the service should drop fs options it does not know, with a warning, instead of refusing.</summary>
    Sloppy = 1,
}
