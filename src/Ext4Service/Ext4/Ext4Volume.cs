using System.Buffers.Binary;
using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Storage;

namespace Safemount.Ext4;

/// <summary>
/// A mounted ext2/ext3/ext4 file system. <see cref="Open"/> reads and validates the superblock
/// and all group descriptors; everything else is read on demand through the metadata cache.
/// Read-only volumes are immutable after Open apart from the cache, so every public member is
/// safe to call from several threads at once. A read-write volume changes only through
/// transaction handles (Ext4Volume.Commit.cs states the lock order).
/// </summary>
public sealed partial class Ext4Volume : IDisposable
{
    private readonly List<string> _warnings;

    /// <summary>The device when the volume is read-write (then CanWrite is true), else null.</summary>
    private readonly IWritableBlockDevice? _writable;

    private Ext4Volume(IBlockDevice device, Superblock sb, GroupDescriptor[] groups, bool readOnly,
        List<string> warnings, long cacheBytes)
    {
        Device = device;
        Sb = sb;
        Groups = groups;
        _openedReadOnly = readOnly;
        _warnings = warnings;
        BlockSize = 1024u << (int)sb.s_log_block_size;
        BlockSizeBits = 10 + (int)sb.s_log_block_size;
        InodeSize = sb.s_rev_level == 0 ? InodeLayout.GoodOldInodeSize : sb.s_inode_size;
        HasMetadataCsum = sb.HasRoCompat(Ext4Features.RO_COMPAT_METADATA_CSUM);
        CsumSeed = sb.HasIncompat(Ext4Features.INCOMPAT_CSUM_SEED)
            ? sb.s_checksum_seed
            : Crc32c.Append(~0u, sb.s_uuid);
        CacheBytes = cacheBytes;
        Cache = new BlockCache(device, (int)BlockSize, cacheBytes);
        Inodes = new Inodes(this);
        Directories = new Directories(this);
        Xattrs = new Xattrs(this);
        FileData = new FileData(this);
        Extents = new ExtentCache(this);
        Orphans = new Orphans(this, BinaryPrimitives.ReadUInt32LittleEndian(sb.Raw.AsSpan(SuperblockLayout.s_last_orphan)));
        _writable = readOnly ? null : device as IWritableBlockDevice;
        InitializeFreeCounters();
    }

    /// <summary>File-system block size in bytes (1024..65536).</summary>
    public uint BlockSize { get; }

    /// <summary>Byte budget of the metadata block cache, as <see cref="Ext4OpenOptions.CacheBytes"/> gave it (negative as 0).</summary>
    public long CacheBytes { get; }

    /// <summary>True when opened read-only, forced read-only (a feature, a write-protected device), or turned read-only by an error under errors=remount-ro or panic.</summary>
    public bool IsReadOnly => _openedReadOnly || Volatile.Read(ref _errorState) != ErrorStateNone;

    /// <summary>Read-only from Open on; never changes.</summary>
    private readonly bool _openedReadOnly;

    /// <summary>s_volume_name up to the first NUL.</summary>
    public string Label
    {
        get
        {
            ReadOnlySpan<byte> n = Sb.s_volume_name;
            int nul = n.IndexOf((byte)0);
            return Encoding.UTF8.GetString(nul < 0 ? n : n[..nul]);
        }
    }

    /// <summary>s_uuid, byte order as blkid prints it (RFC 4122 big-endian fields).</summary>
    public Guid Uuid => new(Sb.s_uuid, bigEndian: true);

    /// <summary>
    /// Timestamp granularity in ns, as the kernel's ext4 sets s_time_gran: 1e9 for 128-byte
    /// inodes (no *_extra fields, whole seconds), 1 otherwise.
    /// </summary>
    public uint TimestampGranularityNs => InodeSize == InodeLayout.GoodOldInodeSize ? 1_000_000_000U : 1U;

    /// <summary>Non-fatal findings of Open (forced read-only and why).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    internal IBlockDevice Device { get; }
    internal Superblock Sb { get; }
    internal GroupDescriptor[] Groups { get; }
    internal BlockCache Cache { get; }
    internal int BlockSizeBits { get; }
    internal int InodeSize { get; }
    internal bool HasMetadataCsum { get; }

    /// <summary>s_csum_seed: crc32c(~0, s_uuid), or s_checksum_seed with metadata_csum_seed.</summary>
    internal uint CsumSeed { get; }

    internal Inodes Inodes { get; }
    internal Directories Directories { get; }
    internal Xattrs Xattrs { get; }
    internal FileData FileData { get; }

    /// <summary>Parsed extent trees of recently edited inodes (checked against the block cache on every use).</summary>
    internal ExtentCache Extents { get; }

    /// <summary>The orphan list (s_last_orphan chain).</summary>
    internal Orphans Orphans { get; }

    /// <summary>
    /// Reads inode <paramref name="ino"/>. Throws <see cref="Ext4CorruptionException"/> for a
    /// number outside 1..s_inodes_count or a malformed inode, <see cref="Ext4ChecksumException"/>
    /// when its checksum does not match.
    /// </summary>
    public Ext4Inode ReadInode(uint ino) => Inodes.Read(ino);

    /// <summary>Writes <paramref name="record"/> through <paramref name="tx"/> (caller holds the inode lock exclusive); returns the new snapshot.</summary>
    internal Ext4Inode WriteInode(Ext4Transaction tx, InodeRecord record) => Inodes.Write(tx, record);

    /// <summary>
    /// Copies file bytes from <paramref name="offset"/> into <paramref name="destination"/>;
    /// returns the number copied, clamped at i_size (0 at or after EOF). Holes and unwritten
    /// extents read as zeros.
    /// </summary>
    public int Read(Ext4Inode inode, long offset, Span<byte> destination) => FileData.Read(inode, offset, destination);

    /// <summary>The target of a symbolic link (fast, in i_block, or slow, in its first data block).</summary>
    public byte[] ReadSymlink(Ext4Inode inode) => Symlinks.Read(this, inode);

    /// <summary>Inode number of <paramref name="name"/> in <paramref name="directory"/>; 0 when absent. Indexed directories are searched through the htree.</summary>
    public uint Lookup(Ext4Inode directory, ReadOnlySpan<byte> name) => Directories.Lookup(directory, name);

    /// <summary>All live entries, "." and ".." included, in on-disk order.</summary>
    public IReadOnlyList<Ext4DirEntry> ReadDirectory(Ext4Inode directory) => Directories.ReadAll(directory);

    /// <summary>Full xattr names (prefix included): in-inode entries first, then the xattr block.</summary>
    public IReadOnlyList<string> ListXattrNames(Ext4Inode inode) => Xattrs.ListNames(inode);

    /// <summary>The value of xattr <paramref name="fullName"/>, null when absent. POSIX ACLs come back in the userspace (version 2) format.</summary>
    public byte[]? GetXattr(Ext4Inode inode, string fullName) => Xattrs.Get(inode, fullName);

    /// <summary>A read-write volume is unmounted cleanly (<see cref="Unmount"/>) if it has not been. The device belongs to the caller.</summary>
    public void Dispose()
    {
        Unmount();
        _handles.Dispose();
    }

    /// <summary>
    /// Reads metadata block <paramref name="block"/> through the cache after checking that it
    /// lies inside the file system. <paramref name="what"/> names the owner for error messages.
    /// </summary>
    internal byte[] ReadMetadataBlock(ulong block, string what)
    {
        CheckBlockRange(block, 1, what);
        return Cache.Get(block);
    }

    /// <summary>
    /// As <see cref="ReadMetadataBlock(ulong, string)"/>; a miss also reads ahead blocks up to
    /// <paramref name="block"/> + <paramref name="readahead"/> - 1 (the caller's bound: the end of
    /// the same inode table or directory extent), which must lie inside the file system too.
    /// </summary>
    internal byte[] ReadMetadataBlock(ulong block, int readahead, string what)
    {
        CheckBlockRange(block, (ulong)Math.Max(readahead, 1), what);
        return Cache.Get(block, readahead);
    }

    /// <summary>Throws unless blocks [block, block+count) lie in [max(1, s_first_data_block), s_blocks_count): block 0 always holds the boot sector or the superblock.</summary>
    internal void CheckBlockRange(ulong block, ulong count, string what)
    {
        ulong total = Sb.s_blocks_count;
        if (block == 0 || block < Sb.s_first_data_block || block >= total || count > total - block)
        {
            throw new Ext4CorruptionException(
                $"{what}: block {block} (+{count}) lies outside the file system (s_blocks_count {total})");
        }
    }
}
