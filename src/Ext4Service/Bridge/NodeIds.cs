namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// The mapping between FUSE node ids and ext4 inode numbers. It is a pure function, so a hard
/// link (one inode, several names) is one node id, and a node id never needs a table lookup:
/// ext4 root inode 2 ↔ FUSE_ROOT_ID 1; every other inode n ↔ node id n. Node id 2 is never
/// handed out (inode 2 is the root), and ext4 inode 1 (the bad-blocks inode) never appears in a
/// directory, so the two ranges cannot collide.
/// </summary>
internal static class NodeIds
{
    /// <summary>FUSE_ROOT_ID (fuse_kernel.h).</summary>
    public const ulong FuseRoot = 1;

    /// <summary>EXT4_ROOT_INO (ext4.h).</summary>
    public const uint Ext4Root = 2;

    public static ulong FromInode(uint ino) => ino == Ext4Root ? FuseRoot : ino;

    /// <summary>The inode for a node id from the kernel, or 0 when no node can have that id.</summary>
    public static uint ToInode(ulong nodeId)
    {
        if (nodeId == FuseRoot)
        {
            return Ext4Root;
        }

        if (nodeId == Ext4Root || nodeId == 0 || nodeId > uint.MaxValue)
        {
            return 0;
        }

        return (uint)nodeId;
    }
}
