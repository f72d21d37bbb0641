using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;

namespace Safemount.Ext4;

/// <summary>
/// A directory's blocks as <see cref="DirectoryEditor"/> sees them on a volume, inside one
/// handle. The caller holds the directory's inode lock exclusive for this object's lifetime and
/// owns <see cref="Record"/> (the directory's mutable inode): blocks are read through the cache,
/// edited with tx.Modify, and new ones mapped by FileData.MapOrAllocateBlock and filled with
/// tx.Create; the record is written after each append (i_size, i_blocks, i_block) so that later
/// mappings see the new block. The caller writes the record once more at the end (times,
/// links, EXT4_INDEX_FL).
/// </summary>
internal sealed class VolumeDirectoryBlocks : IDirectoryBlocks
{
    private readonly Ext4Volume _v;
    private readonly Ext4Transaction _tx;
    private readonly AllocationRights _rights;
    private Ext4Inode _snapshot;

    public VolumeDirectoryBlocks(Ext4Volume volume, Ext4Transaction tx, InodeRecord record, Ext4Inode snapshot, AllocationRights rights)
    {
        _v = volume;
        _tx = tx;
        _rights = rights;
        Record = record;
        _snapshot = snapshot;
        long size = record.Size;
        if (size % volume.BlockSize != 0 || (size >> volume.BlockSizeBits) > uint.MaxValue)
        {
            throw new Ext4CorruptionException($"directory inode {record.Number}: i_size {size} is not a whole number of blocks");
        }
    }

    /// <summary>The directory's inode, as edited so far.</summary>
    public InodeRecord Record { get; }

    /// <summary>The directory inode as last written (what the mapping reads from).</summary>
    public Ext4Inode Snapshot => _snapshot;

    public int BlockSize => (int)_v.BlockSize;

    public uint Count => (uint)(Record.Size >> _v.BlockSizeBits);

    /// <summary>Physical block of <paramref name="lblk"/>, or 0 for a hole.</summary>
    private ulong Physical(uint lblk)
    {
        var run = _v.FileData.Map(_snapshot, lblk, 1);
        return run.Kind switch
        {
            BlockRunKind.Mapped => run.Physical,
            BlockRunKind.Hole => 0,
            _ => throw new Ext4CorruptionException($"directory inode {Record.Number}: block {lblk} is unwritten"),
        };
    }

    public byte[]? Read(uint lblk)
    {
        ulong p = Physical(lblk);
        return p == 0 ? null : _v.ReadMetadataBlock(p, $"directory inode {Record.Number} block {lblk}");
    }

    public void Modify(uint lblk, DirectoryBlockEdit edit)
    {
        ulong p = Physical(lblk);
        if (p == 0)
        {
            throw new InvalidOperationException($"directory inode {Record.Number}: editing hole block {lblk}");
        }

        _tx.Modify(p, $"directory inode {Record.Number} block {lblk}", b => edit(b));
    }

    public bool TryAppend(DirectoryBlockEdit init, out uint lblk)
    {
        lblk = Count;
        if (lblk == uint.MaxValue)
        {
            return false;
        }

        var err = _v.FileData.MapOrAllocateBlock(_tx, Record, lblk, _rights, out ulong physical, out _);
        if (err != Ext4Errno.None)
        {
            return false;
        }

        _tx.Create(physical, $"directory inode {Record.Number} block {lblk}", b => init(b));
        Record.Size += _v.BlockSize;
        _snapshot = _v.WriteInode(_tx, Record);
        return true;
    }

    public void SetIndexed() => Record.Flags |= InodeLayout.EXT4_INDEX_FL;

    /// <summary>The editor parameters for this directory on this volume.</summary>
    public DirectoryEditorParams Params()
    {
        var sb = _v.Sb;
        bool dirIndex = sb.HasCompat(Ext4Features.COMPAT_DIR_INDEX);
        return new DirectoryEditorParams(
            _v.HasMetadataCsum,
            InodeSeed(_v, Record.Number, Record.Generation),
            dirIndex,
            dirIndex && (Record.Flags & InodeLayout.EXT4_INDEX_FL) != 0,
            sb.s_def_hash_version,
            (sb.s_flags & SuperblockLayout.EXT2_FLAGS_UNSIGNED_HASH) != 0,
            sb.s_hash_seed,
            sb.HasIncompat(Ext4Features.INCOMPAT_LARGEDIR) ? DirEntryLayout.HtreeLevelsLargeDir : DirEntryLayout.HtreeLevels);
    }

    /// <summary>crc32c(crc32c(s_csum_seed, le32 ino), le32 generation): the seed of an inode's metadata checksums.</summary>
    public static uint InodeSeed(Ext4Volume v, uint ino, uint generation) =>
        Format.Crc32c.AppendLe32(Format.Crc32c.AppendLe32(v.CsumSeed, ino), generation);
}
