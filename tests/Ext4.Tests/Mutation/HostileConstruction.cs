namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// A named hostile construction: <see cref="Apply"/> edits a base image copy and returns false
/// when the layout has no structure to build it on (e.g. no htree on an inline-only directory).
/// </summary>
internal sealed record HostileConstruction(string Name, Func<MutatedImage, Random, bool> Apply)
{
    public override string ToString() => Name;
}
