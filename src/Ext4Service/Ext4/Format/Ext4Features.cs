using System.Text;

namespace Safemount.Ext4.Format;

/// <summary>
/// Feature bits of s_feature_compat / s_feature_incompat / s_feature_ro_compat with their
/// e2fsprogs names, and the sets this engine understands.
/// </summary>
internal static class Ext4Features
{
    // s_feature_compat
    public const uint COMPAT_DIR_PREALLOC = 0x0001;
    public const uint COMPAT_IMAGIC_INODES = 0x0002;
    public const uint COMPAT_HAS_JOURNAL = 0x0004;
    public const uint COMPAT_EXT_ATTR = 0x0008;
    public const uint COMPAT_RESIZE_INODE = 0x0010;
    public const uint COMPAT_DIR_INDEX = 0x0020;
    public const uint COMPAT_SPARSE_SUPER2 = 0x0200;
    public const uint COMPAT_FAST_COMMIT = 0x0400;
    public const uint COMPAT_STABLE_INODES = 0x0800;
    public const uint COMPAT_ORPHAN_FILE = 0x1000;

    // s_feature_ro_compat
    public const uint RO_COMPAT_SPARSE_SUPER = 0x0001;
    public const uint RO_COMPAT_LARGE_FILE = 0x0002;
    public const uint RO_COMPAT_BTREE_DIR = 0x0004;
    public const uint RO_COMPAT_HUGE_FILE = 0x0008;
    public const uint RO_COMPAT_GDT_CSUM = 0x0010;
    public const uint RO_COMPAT_DIR_NLINK = 0x0020;
    public const uint RO_COMPAT_EXTRA_ISIZE = 0x0040;
    public const uint RO_COMPAT_HAS_SNAPSHOT = 0x0080;
    public const uint RO_COMPAT_QUOTA = 0x0100;
    public const uint RO_COMPAT_BIGALLOC = 0x0200;
    public const uint RO_COMPAT_METADATA_CSUM = 0x0400;
    public const uint RO_COMPAT_REPLICA = 0x0800;
    public const uint RO_COMPAT_READONLY = 0x1000;
    public const uint RO_COMPAT_PROJECT = 0x2000;
    public const uint RO_COMPAT_SHARED_BLOCKS = 0x4000;
    public const uint RO_COMPAT_VERITY = 0x8000;
    public const uint RO_COMPAT_ORPHAN_PRESENT = 0x10000;

    // s_feature_incompat
    public const uint INCOMPAT_COMPRESSION = 0x0001;
    public const uint INCOMPAT_FILETYPE = 0x0002;
    public const uint INCOMPAT_RECOVER = 0x0004;      // needs_recovery
    public const uint INCOMPAT_JOURNAL_DEV = 0x0008;
    public const uint INCOMPAT_META_BG = 0x0010;
    public const uint INCOMPAT_EXTENTS = 0x0040;
    public const uint INCOMPAT_64BIT = 0x0080;
    public const uint INCOMPAT_MMP = 0x0100;
    public const uint INCOMPAT_FLEX_BG = 0x0200;
    public const uint INCOMPAT_EA_INODE = 0x0400;
    public const uint INCOMPAT_DIRDATA = 0x1000;
    public const uint INCOMPAT_CSUM_SEED = 0x2000;
    public const uint INCOMPAT_LARGEDIR = 0x4000;
    public const uint INCOMPAT_INLINE_DATA = 0x8000;
    public const uint INCOMPAT_ENCRYPT = 0x10000;
    public const uint INCOMPAT_CASEFOLD = 0x20000;

    /// <summary>
    /// INCOMPAT features the reader implements (ea_inode: see XattrInodeValues). needs_recovery is handled separately;
    /// encrypt, casefold, mmp, compression, journal_dev and dirdata are refused.
    /// </summary>
    public const uint SupportedIncompat =
        INCOMPAT_FILETYPE | INCOMPAT_META_BG | INCOMPAT_EXTENTS | INCOMPAT_64BIT |
        INCOMPAT_FLEX_BG | INCOMPAT_EA_INODE | INCOMPAT_CSUM_SEED | INCOMPAT_LARGEDIR | INCOMPAT_INLINE_DATA;

    /// <summary>RO_COMPAT features the reader understands; any other bit forces read-only with a warning.</summary>
    public const uint SupportedRoCompat =
        RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_HUGE_FILE | RO_COMPAT_GDT_CSUM |
        RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE | RO_COMPAT_QUOTA | RO_COMPAT_METADATA_CSUM |
        RO_COMPAT_PROJECT | RO_COMPAT_ORPHAN_PRESENT;

    /// <summary>
    /// COMPAT features the write path keeps valid. A journal is left clean and unused until
    /// metadata journaling lands (issue 5); fast_commit areas are never written; orphans go on the
    /// s_last_orphan chain, which the kernel and e2fsck process with or without orphan_file.
    /// </summary>
    public const uint WritableCompat =
        COMPAT_DIR_PREALLOC | COMPAT_HAS_JOURNAL | COMPAT_EXT_ATTR | COMPAT_RESIZE_INODE | COMPAT_DIR_INDEX |
        COMPAT_SPARSE_SUPER2 | COMPAT_FAST_COMMIT | COMPAT_STABLE_INODES | COMPAT_ORPHAN_FILE;

    /// <summary>
    /// INCOMPAT features the write path implements (needs_recovery is replayed before the gate).
    /// inline_data: inline files and directories are moved to a block on their first change.
    /// </summary>
    public const uint WritableIncompat =
        INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG | INCOMPAT_EXTENTS | INCOMPAT_64BIT |
        INCOMPAT_FLEX_BG | INCOMPAT_CSUM_SEED | INCOMPAT_LARGEDIR | INCOMPAT_INLINE_DATA;

    /// <summary>RO_COMPAT features the write path implements; quota and project need quota-file accounting, orphan_present an orphan-file cleanup.</summary>
    public const uint WritableRoCompat =
        RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_HUGE_FILE | RO_COMPAT_GDT_CSUM |
        RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE | RO_COMPAT_METADATA_CSUM;

    /// <summary>Names of the features in <paramref name="sb"/> the write path does not implement; empty when it can write the volume.</summary>
    public static string NotWritable(Superblock sb)
    {
        var parts = new List<string>(3);
        if ((sb.s_feature_compat & ~WritableCompat) is uint c and not 0)
        {
            parts.Add(CompatNames(c));
        }

        if ((sb.s_feature_incompat & ~WritableIncompat) is uint i and not 0)
        {
            parts.Add(IncompatNames(i));
        }

        if ((sb.s_feature_ro_compat & ~WritableRoCompat) is uint r and not 0)
        {
            parts.Add(RoCompatNames(r));
        }

        return string.Join(' ', parts);
    }

    private static readonly (uint Bit, string Name)[] s_compatNames =
    [
        (COMPAT_DIR_PREALLOC, "dir_prealloc"), (COMPAT_IMAGIC_INODES, "imagic_inodes"),
        (COMPAT_HAS_JOURNAL, "has_journal"), (COMPAT_EXT_ATTR, "ext_attr"),
        (COMPAT_RESIZE_INODE, "resize_inode"), (COMPAT_DIR_INDEX, "dir_index"),
        (0x0040, "lazy_bg"), (0x0080, "snapshot_bitmap"), (0x0100, "exclude_bitmap"),
        (COMPAT_SPARSE_SUPER2, "sparse_super2"), (COMPAT_FAST_COMMIT, "fast_commit"),
        (COMPAT_STABLE_INODES, "stable_inodes"), (COMPAT_ORPHAN_FILE, "orphan_file"),
    ];

    private static readonly (uint Bit, string Name)[] s_roCompatNames =
    [
        (RO_COMPAT_SPARSE_SUPER, "sparse_super"), (RO_COMPAT_LARGE_FILE, "large_file"),
        (RO_COMPAT_BTREE_DIR, "btree_dir"), (RO_COMPAT_HUGE_FILE, "huge_file"),
        (RO_COMPAT_GDT_CSUM, "uninit_bg"), (RO_COMPAT_DIR_NLINK, "dir_nlink"),
        (RO_COMPAT_EXTRA_ISIZE, "extra_isize"), (RO_COMPAT_HAS_SNAPSHOT, "snapshot"),
        (RO_COMPAT_QUOTA, "quota"), (RO_COMPAT_BIGALLOC, "bigalloc"),
        (RO_COMPAT_METADATA_CSUM, "metadata_csum"), (RO_COMPAT_REPLICA, "replica"),
        (RO_COMPAT_READONLY, "read-only"), (RO_COMPAT_PROJECT, "project"),
        (RO_COMPAT_SHARED_BLOCKS, "shared_blocks"), (RO_COMPAT_VERITY, "verity"),
        (RO_COMPAT_ORPHAN_PRESENT, "orphan_present"),
    ];

    private static readonly (uint Bit, string Name)[] s_incompatNames =
    [
        (INCOMPAT_COMPRESSION, "compression"), (INCOMPAT_FILETYPE, "filetype"),
        (INCOMPAT_RECOVER, "needs_recovery"), (INCOMPAT_JOURNAL_DEV, "journal_dev"),
        (INCOMPAT_META_BG, "meta_bg"), (INCOMPAT_EXTENTS, "extent"), (INCOMPAT_64BIT, "64bit"),
        (INCOMPAT_MMP, "mmp"), (INCOMPAT_FLEX_BG, "flex_bg"), (INCOMPAT_EA_INODE, "ea_inode"),
        (INCOMPAT_DIRDATA, "dirdata"), (INCOMPAT_CSUM_SEED, "metadata_csum_seed"),
        (INCOMPAT_LARGEDIR, "large_dir"), (INCOMPAT_INLINE_DATA, "inline_data"),
        (INCOMPAT_ENCRYPT, "encrypt"), (INCOMPAT_CASEFOLD, "casefold"),
    ];

    /// <summary>RO_COMPAT bits that have a name (known to e2fsprogs 1.47 / Linux 6.18).</summary>
    public static uint KnownRoCompat
    {
        get
        {
            uint known = 0;
            foreach (var (bit, _) in s_roCompatNames)
            {
                known |= bit;
            }

            return known;
        }
    }

    public static string CompatNames(uint bits) => Describe(bits, s_compatNames);

    public static string RoCompatNames(uint bits) => Describe(bits, s_roCompatNames);

    public static string IncompatNames(uint bits) => Describe(bits, s_incompatNames);

    /// <summary>Space-separated names of the set bits; bits without a name print as 0x hex.</summary>
    private static string Describe(uint bits, (uint Bit, string Name)[] names)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 32; i++)
        {
            uint bit = 1u << i;
            if ((bits & bit) == 0)
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append(' ');
            }

            string? name = null;
            foreach (var (b, n) in names)
            {
                if (b == bit)
                {
                    name = n;
                    break;
                }
            }

            sb.Append(name ?? $"0x{bit:x}");
        }

        return sb.ToString();
    }
}
