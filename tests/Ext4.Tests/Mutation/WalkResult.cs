namespace Safemount.Ext4.Tests.Mutation;

/// <summary>What one walk saw: its class, the typed errors by "operation: exception type", and the first unexpected exception (null when none).</summary>
internal sealed class WalkResult
{
    public OutcomeKind Kind { get; set; } = OutcomeKind.Clean;

    /// <summary>"Read: Ext4CorruptionException" style keys, with counts.</summary>
    public Dictionary<string, int> TypedErrors { get; } = new();

    public string? RefusedBecause { get; set; }

    /// <summary>Operation and exception that escaped the engine's typed errors; a bug.</summary>
    public string? Unexpected { get; set; }

    public int Operations { get; set; }

    public void Typed(string operation, Exception e)
    {
        Kind = OutcomeKind.TypedError;
        string key = $"{operation}: {e.GetType().Name}";
        TypedErrors[key] = TypedErrors.GetValueOrDefault(key) + 1;
    }
}
