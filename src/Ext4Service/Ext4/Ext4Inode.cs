namespace Safemount.Ext4;

/// <summary>
/// Immutable snapshot of one on-disk inode (struct ext4_inode), decoded and validated by
/// <see cref="Ext4Volume.ReadInode"/>. Times are seconds since the epoch with the extra epoch
/// bits applied; sizes in bytes.
/// </summary>
public sealed class Ext4Inode
{
    internal Ext4Inode(uint number, byte[] raw, ushort extraIsize, uint checksumSeed)
    {
        Number = number;
        Raw = raw;
        ExtraIsize = extraIsize;
        ChecksumSeed = checksumSeed;
    }

    /// <summary>Inode number (1-based).</summary>
    public uint Number { get; }

    /// <summary>i_mode: file type (S_IFMT bits) and permission bits.</summary>
    public ushort Mode { get; internal init; }

    /// <summary>i_uid | l_i_uid_high &lt;&lt; 16.</summary>
    public uint Uid { get; internal init; }

    /// <summary>i_gid | l_i_gid_high &lt;&lt; 16.</summary>
    public uint Gid { get; internal init; }

    /// <summary>i_size_lo | i_size_high &lt;&lt; 32, in bytes (never negative).</summary>
    public long Size { get; internal init; }

    /// <summary>i_links_count.</summary>
    public ushort LinksCount { get; internal init; }

    public long AtimeSeconds { get; internal init; }
    public uint AtimeNanoseconds { get; internal init; }
    public long MtimeSeconds { get; internal init; }
    public uint MtimeNanoseconds { get; internal init; }
    public long CtimeSeconds { get; internal init; }
    public uint CtimeNanoseconds { get; internal init; }
    public long CrtimeSeconds { get; internal init; }
    public uint CrtimeNanoseconds { get; internal init; }

    /// <summary>True when i_crtime fits in the inode (i_extra_isize large enough).</summary>
    public bool HasCrtime { get; internal init; }

    /// <summary>i_blocks in 512-byte units (huge_file and EXT4_HUGE_FILE_FL applied).</summary>
    public ulong Blocks512 { get; internal init; }

    /// <summary>i_flags (EXT4_*_FL).</summary>
    public uint Flags { get; internal init; }

    /// <summary>i_generation.</summary>
    public uint Generation { get; internal init; }

    /// <summary>Device major number for character and block devices, else 0.</summary>
    public uint RdevMajor { get; internal init; }

    /// <summary>Device minor number for character and block devices, else 0.</summary>
    public uint RdevMinor { get; internal init; }

    public bool IsDirectory => (Mode & Format.InodeLayout.S_IFMT) == Format.InodeLayout.S_IFDIR;
    public bool IsRegular => (Mode & Format.InodeLayout.S_IFMT) == Format.InodeLayout.S_IFREG;
    public bool IsSymlink => (Mode & Format.InodeLayout.S_IFMT) == Format.InodeLayout.S_IFLNK;

    /// <summary>EXT4_INLINE_DATA_FL: the data lives in i_block and the system.data xattr.</summary>
    public bool HasInlineData => HasFlag(Format.InodeLayout.EXT4_INLINE_DATA_FL);

    /// <summary>EXT4_IMMUTABLE_FL (chattr +i).</summary>
    public bool IsImmutable => HasFlag(Format.InodeLayout.EXT4_IMMUTABLE_FL);

    /// <summary>EXT4_APPEND_FL (chattr +a).</summary>
    public bool IsAppendOnly => HasFlag(Format.InodeLayout.EXT4_APPEND_FL);

    /// <summary>EXT4_EA_INODE_FL: the inode holds one xattr value (ea_inode) and has no name.</summary>
    public bool IsXattrValueInode => HasFlag(Format.InodeLayout.EXT4_EA_INODE_FL);

    /// <summary>
    /// False for an inode no directory entry may name: a deleted one (i_links_count 0, as
    /// ext4_lookup) or an xattr value inode (as __ext4_iget's check_igot_inode). A name that
    /// leads to such an inode is corruption.
    /// </summary>
    public bool MayBeNamed => LinksCount != 0 && !IsXattrValueInode;

    /// <summary>The whole on-disk inode record (s_inode_size bytes). Never mutated.</summary>
    internal byte[] Raw { get; }

    /// <summary>i_extra_isize (0 for 128-byte inodes).</summary>
    internal ushort ExtraIsize { get; }

    /// <summary>crc32c seed of this inode's metadata: crc32c(crc32c(fs seed, ino), generation).</summary>
    internal uint ChecksumSeed { get; }

    /// <summary>i_file_acl_lo | l_i_file_acl_high &lt;&lt; 32: the external xattr block, 0 when none.</summary>
    internal ulong FileAcl { get; init; }

    /// <summary>i_block[EXT4_N_BLOCKS]: 60 bytes, extent root, block map or fast symlink.</summary>
    internal ReadOnlySpan<byte> IBlock => Raw.AsSpan(Format.InodeLayout.i_block, Format.InodeLayout.IBlockSize);

    internal bool HasFlag(uint flag) => (Flags & flag) != 0;
}
