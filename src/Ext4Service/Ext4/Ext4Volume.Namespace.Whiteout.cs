using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// The whiteout renameat2(RENAME_WHITEOUT) leaves at the source name (kernel: fs/ext4/namei.c
/// ext4_whiteout_for_rename; overlayfs marks deleted lower-layer names with it).
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>The caller that a whiteout inode belongs to.</summary>
    private readonly record struct Owner(uint Uid, uint Gid);

    /// <summary>
    /// ext4_whiteout_for_rename: a new inode in directory <paramref name="dir"/> (its lock held),
    /// S_IFCHR with permission bits 0 and device 0:0 (WHITEOUT_MODE, WHITEOUT_DEV), with the
    /// directory's default ACL applied as for any new inode (ext4_init_acl); written to
    /// <paramref name="tx"/>.
    /// </summary>
    private Ext4Errno NewWhiteout(Ext4Transaction tx, InodeRecord dir, Owner owner, out InodeRecord? white)
    {
        white = null;
        var err = NewInode(tx, dir, L.S_IFCHR, owner.Uid, owner.Gid, out var r);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        r.SetDevice(0, 0);
        err = InitAcl(tx, dir.Number, r, 0);
        if (err != Ext4Errno.None)
        {
            r.LinksCount = 0;
            FreeInode(tx, r);
            return err;
        }

        WriteInode(tx, r);
        white = r;
        return Ext4Errno.None;
    }
}
