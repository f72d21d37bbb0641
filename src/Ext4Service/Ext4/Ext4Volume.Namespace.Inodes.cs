using System.Buffers.Binary;
using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// Inode-level helpers of the namespace operations (kernel: ialloc.c __ext4_new_inode,
/// namei.c ext4_inc_count/ext4_dec_count, inode.c ext4_evict_inode): initialising a new inode,
/// link counts of directories, and releasing an inode whose last link went away.
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>EXT4_LINK_MAX: the most links an inode may have (directories beyond it need dir_nlink and an index).</summary>
    internal const int EXT4_LINK_MAX = 65000;

    private const uint S_ISGID = 0x400;

    // ext4.h flag masks for inheritance (ext4_mask_flags).
    private const uint EXT4_FL_INHERITED = 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000040 | 0x00000080
        | 0x00000400 | 0x00004000 | 0x00008000 | 0x00010000 | 0x20000000 | 0x40000000 | 0x02000000;
    private const uint EXT4_DIRSYNC_FL = 0x00010000;
    private const uint EXT4_TOPDIR_FL = 0x00020000;
    private const uint EXT4_REG_FLMASK = ~(EXT4_DIRSYNC_FL | EXT4_TOPDIR_FL | L.EXT4_CASEFOLD_FL | EXT4_PROJINHERIT_FL);
    private const uint EXT4_OTHER_FLMASK = 0x00000040 | 0x00000080; // NODUMP | NOATIME

    /// <summary>
    /// Allocates and fills a new inode as __ext4_new_inode does: owner (the parent's group and,
    /// for a directory, its S_ISGID when the parent has S_ISGID, as inode_init_owner), the four
    /// times = now, inherited flags (ext4_mask_flags of the parent's EXT4_FL_INHERITED), the
    /// project id under PROJINHERIT, and an empty extent root (ext4_ext_tree_init) for regular
    /// files, directories and symlinks on extent file systems. The record is returned unwritten.
    /// </summary>
    private Ext4Errno NewInode(Ext4Transaction tx, InodeRecord parent, ushort mode, uint uid, uint gid, out InodeRecord r)
    {
        var err = InodeAllocator.Allocate(tx, parent.Number, mode, out r);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        ushort type = (ushort)(mode & L.S_IFMT);
        if ((parent.Mode & S_ISGID) != 0)
        {
            gid = parent.Gid;
            if (type == L.S_IFDIR)
            {
                mode |= (ushort)S_ISGID;
            }
        }

        r.Mode = mode;
        r.LinksCount = 1;
        r.Version = 1; // __ext4_new_inode: inode_set_iversion(inode, 1)
        r.Uid = uid;
        r.Gid = gid;
        var (s, ns) = Now();
        r.SetAtime(s, ns);
        r.SetMtime(s, ns);
        r.SetCtime(s, ns);
        r.SetCrtime(s, ns);
        uint inherited = parent.Flags & EXT4_FL_INHERITED;
        r.Flags = type switch
        {
            L.S_IFDIR => inherited,
            L.S_IFREG => inherited & EXT4_REG_FLMASK,
            _ => inherited & EXT4_OTHER_FLMASK,
        };
        if ((parent.Flags & EXT4_PROJINHERIT_FL) != 0)
        {
            r.ProjectId = parent.ProjectId;
        }

        if (Sb.HasIncompat(Ext4Features.INCOMPAT_EXTENTS) && type is L.S_IFREG or L.S_IFDIR or L.S_IFLNK)
        {
            r.Flags |= L.EXT4_EXTENTS_FL;
            Span<byte> root = r.IBlock;
            root.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(root[ExtentLayout.eh_magic..], ExtentLayout.EXT4_EXT_MAGIC);
            BinaryPrimitives.WriteUInt16LittleEndian(root[ExtentLayout.eh_max..], (L.IBlockSize / ExtentLayout.EntrySize) - 1);
        }

        return Ext4Errno.None;
    }

    /// <summary>ext4_inc_count on a directory: a link past EXT4_LINK_MAX in an indexed directory becomes 1 ("many", dir_nlink).</summary>
    private void IncDirLinks(InodeRecord dir)
    {
        int n = dir.LinksCount + 1;
        bool dx = Sb.HasCompat(Ext4Features.COMPAT_DIR_INDEX) && (dir.Flags & L.EXT4_INDEX_FL) != 0;
        dir.LinksCount = dx && (n > EXT4_LINK_MAX || n == 2) ? (ushort)1 : (ushort)n;
    }

    /// <summary>ext4_dec_count: a directory at 2 (or at 1, "many") keeps its count.</summary>
    private static void DecLinks(InodeRecord r)
    {
        bool dir = (r.Mode & L.S_IFMT) == L.S_IFDIR;
        if (!dir || r.LinksCount > 2)
        {
            r.LinksCount--;
        }
    }

    /// <summary>EXT4_DIR_LINK_MAX: a directory that cannot take another subdirectory (EMLINK).</summary>
    private bool DirLinkMax(InodeRecord dir) =>
        dir.LinksCount >= EXT4_LINK_MAX
        && !(Sb.HasRoCompat(Ext4Features.RO_COMPAT_DIR_NLINK) && Sb.HasCompat(Ext4Features.COMPAT_DIR_INDEX) && (dir.Flags & L.EXT4_INDEX_FL) != 0);

    /// <summary>
    /// The last link of <paramref name="r"/> went away: when the inode is still referenced
    /// (<see cref="IsReferenced"/>: the kernel holds it, e.g. an open file) it goes on the orphan
    /// list with i_links_count 0 and is freed by <see cref="ReleaseIfOrphan"/> later (ext4_unlink's
    /// ext4_orphan_add); otherwise it is freed now.
    /// </summary>
    private void ReleaseInode(Ext4Transaction tx, InodeRecord r)
    {
        if (IsReferenced?.Invoke(r.Number) == true)
        {
            var (s, ns) = Now();
            r.LinksCount = 0;
            r.SetCtime(s, ns);
            Orphans.Add(tx, r.Number);
            WriteInode(tx, r);
            return;
        }

        FreeInode(tx, r);
    }

    /// <summary>
    /// Frees an inode whose link count reached 0 (ext4_evict_inode): cached directory blocks are
    /// forgotten, every mapped block and mapping block freed (FileData.SetSize to 0), the xattr
    /// block released (shared: refcount - 1), i_dtime set, the record written, the inode bit
    /// cleared. The caller holds the inode's lock exclusive and it is not on the orphan list.
    /// </summary>
    private void FreeInode(Ext4Transaction tx, InodeRecord r)
    {
        ushort type = (ushort)(r.Mode & L.S_IFMT);
        var snapshot = ReadInode(r.Number);
        bool hasBlocks = type is L.S_IFREG or L.S_IFDIR || (type == L.S_IFLNK && !IsFastSymlink(snapshot));
        if (hasBlocks && !snapshot.HasInlineData)
        {
            if (type == L.S_IFDIR)
            {
                ForgetDirectoryBlocks(tx, snapshot);
            }

            var err = FileData.SetSize(tx, r, 0);
            if (err != Ext4Errno.None)
            {
                throw new Ext4CorruptionException($"inode {r.Number}: releasing its blocks failed with {err}");
            }
        }

        r.Size = 0;
        XattrWriter.ReleaseBlock(tx, r);
        var (s, ns) = Now();
        r.Dtime = (uint)s;
        r.SetCtime(s, ns);
        r.LinksCount = 0;
        WriteInode(tx, r);
        InodeAllocator.Free(tx, r.Number, type == L.S_IFDIR);
    }

    /// <summary>Drops every cached version of a directory's blocks before they are freed (they may be dirty).</summary>
    private void ForgetDirectoryBlocks(Ext4Transaction tx, Ext4Inode dir)
    {
        ulong blocks = ((ulong)dir.Size + BlockSize - 1) >> BlockSizeBits;
        for (uint lblk = 0; lblk < blocks;)
        {
            var run = FileData.Map(dir, lblk, (uint)Math.Min(blocks - lblk, uint.MaxValue));
            if (run.Kind == BlockRunKind.Mapped)
            {
                for (uint i = 0; i < run.Length; i++)
                {
                    tx.Forget(run.Physical + i);
                }
            }

            lblk += Math.Max(run.Length, 1u);
        }
    }

    /// <summary>ext4_inode_is_fast_symlink: the target lives in i_block (no data block, xattr block aside).</summary>
    private bool IsFastSymlink(Ext4Inode inode)
    {
        ulong ea = inode.FileAcl != 0 ? BlockSize / 512u : 0;
        return inode.IsSymlink && !inode.HasInlineData && inode.Blocks512 - ea == 0 && inode.Size < L.IBlockSize;
    }
}
