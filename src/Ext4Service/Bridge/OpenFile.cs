using Safemount.Ext4;

namespace Safemount.Ext4Service.Bridge;

/// <summary>An open regular file: the inode as read at OPEN. While the volume is read-only the
/// snapshot cannot go stale.</summary>
internal sealed class OpenFile
{
    public OpenFile(Ext4Inode inode) => Inode = inode;

    public Ext4Inode Inode { get; }
}
