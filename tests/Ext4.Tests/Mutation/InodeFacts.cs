namespace Safemount.Ext4.Tests.Mutation;

/// <summary>What the clean walk learnt about one reachable inode: where it is, its parent directory, its type and size.</summary>
internal sealed record InodeFacts(uint Ino, uint Parent, long Offset, ushort Mode, uint Flags, long Size, ulong FirstDataBlock)
{
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;
    public bool IsRegular => (Mode & 0xF000) == 0x8000;
    public bool IsSymlink => (Mode & 0xF000) == 0xA000;
    public bool HasExtents => (Flags & Safemount.Ext4.Format.InodeLayout.EXT4_EXTENTS_FL) != 0;
    public bool IsInline => (Flags & Safemount.Ext4.Format.InodeLayout.EXT4_INLINE_DATA_FL) != 0;
}
