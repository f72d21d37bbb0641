namespace Safemount.Ext4.Tests.Mutation;

/// <summary>What a metadata region of a base image holds (journal blocks are deliberately absent: another suite owns them).</summary>
internal enum RegionKind
{
    Superblock,
    BackupSuperblock,
    GroupDescriptors,
    ReservedGdt,
    BlockBitmap,
    InodeBitmap,
    Inode,
    ExtentBlock,
    IndirectBlock,
    DirLeaf,
    DxRoot,
    DxNode,
    XattrBlock,
    SymlinkBlock,
}
