namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// A seeded sequence of operations whose device writes a crash test records. It drives the
/// volume only through a <see cref="WorkloadDriver"/>, syncs where it wants durability, and
/// ends with some unsynced changes (the crash comes right after <see cref="Run"/>).
/// </summary>
internal abstract class CrashWorkload
{
    public abstract string Name { get; }

    public abstract void Run(WorkloadDriver d);

    public override string ToString() => Name;

    /// <summary>A random element of <paramref name="items"/>, or null when it is empty.</summary>
    protected static string? Pick(WorkloadDriver d, IReadOnlyList<string> items) => items.Count == 0 ? null : items[d.Rng.Next(items.Count)];
}
