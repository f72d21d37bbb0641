namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// One metadata structure of a clean base image: its byte range, the file-system block it lies
/// in, and the inode that owns it (0 for file-system metadata). <see cref="Index"/> is the
/// logical block for directory blocks, the group for descriptors, else 0.
/// </summary>
internal readonly record struct MetadataRegion(RegionKind Kind, long Offset, int Length, ulong Block, uint Owner, uint Index)
{
    public override string ToString() => $"{Kind} @{Offset} (+{Length}) block {Block} owner {Owner}";
}
