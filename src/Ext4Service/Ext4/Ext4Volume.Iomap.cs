using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;

namespace Safemount.Ext4;

/// <summary>
/// The engine side of the fuse-iomap data path (FUSE-PROTOCOL.md §2.7/§2.8): mapping answers
/// for reads and reports, allocation for writes, and the journaled completion of writes
/// (unwritten → written, i_size). Locking as for the other data operations: the inode's lock
/// (shared for lookups, exclusive for changes), then a handle; the record is written once.
/// Timestamps are not touched: the kernel owns a/m/ctime of iomap inodes and sends them in SETATTR.
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>
    /// Set by whoever serves the volume (fuse-iomap: the kernel caches file mappings and must
    /// drop them). Called with (ino, first logical block, block count; <see cref="ulong.MaxValue"/>
    /// = to the end of the file) before blocks of regular file ino stop being mapped as they are:
    /// freed (truncate, punch hole, release of the inode) or changed in written state (zero range
    /// makes them unwritten, a write through the engine makes them written).
    /// Ordering invariant: it runs on the changing thread under the inode's exclusive lock,
    /// inside the handle and before the change is applied, so before any block the change frees
    /// is free in the bitmap, hence strictly before that block can be allocated again (with a
    /// journal not before the freeing transaction commits either, <see cref="BlocksReusable"/>).
    /// Must not block for long or call into this volume. Null: nobody caches mappings.
    /// IOEND's unwritten conversion (<see cref="CompleteFileWrite"/>) does not call it: the kernel
    /// drops its cached mappings over the range itself after the IOEND reply (FUSE-PROTOCOL.md §2.7).
    /// </summary>
    public Action<uint, ulong, ulong>? FileMappingChanging { get; set; }

    /// <summary>
    /// Set by whoever serves the volume (fuse-iomap: DEV_INVAL drops the block device's page cache).
    /// Called with (first physical block, block count) when freed blocks are about to become
    /// allocatable again: with a journal once the transaction that freed them is durable, on the
    /// committing thread just before <see cref="FreedBlocks.EndCommit"/> releases them (under
    /// the sync lock); without a journal from the free itself, under the block group's lock right
    /// after the bitmap bits are cleared, so no allocation in that group can take them before the
    /// call returns. Blocks of a commit that failed never become reusable and are not reported.
    /// Must not block for long or call into this volume. Null: nobody listens.
    /// </summary>
    public Action<ulong, ulong>? BlocksReusable { get; set; }

    /// <summary>
    /// The mapping of regular file <paramref name="ino"/> at <paramref name="pos"/> for a read
    /// or a report (FIEMAP, SEEK_DATA/SEEK_HOLE): one extent, one contiguous stretch of a block
    /// map, a hole up to the next one, or the inline data, clipped to the blocks of
    /// [pos, pos + count). EINVAL for a non-regular inode or a bad range; EFBIG past the largest
    /// logical block.
    /// </summary>
    public Ext4Errno MapFileRange(uint ino, long pos, long count, out Ext4Mapping mapping)
    {
        mapping = default;
        if (pos < 0 || count <= 0 || count > long.MaxValue - pos)
        {
            return Ext4Errno.EINVAL;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: false);
        var inode = ReadInode(ino);
        if (!inode.IsRegular)
        {
            return inode.IsDirectory ? Ext4Errno.EISDIR : Ext4Errno.EINVAL;
        }

        if (((ulong)pos >> BlockSizeBits) >= 1UL << 32)
        {
            return Ext4Errno.EFBIG;
        }

        mapping = FileData.MappingAt(inode, pos, count);
        return Ext4Errno.None;
    }

    /// <summary>
    /// The mapping a write (or zeroing, with <paramref name="zero"/>) at <paramref name="pos"/>
    /// goes through: a hole is allocated first (unwritten extents; zeroed blocks in a block-mapped
    /// file) unless zeroing, which leaves holes alone. An inline-data file is converted to blocks
    /// first. The count is cut at the largest file size (EFBIG when pos is at or past it).
    /// The caller's ids decide whether the reserved blocks may be used.
    /// </summary>
    public Ext4Errno MapFileRangeForWrite(uint ino, long pos, long count, bool zero, out Ext4Mapping mapping, uint callerUid = 0, uint callerGid = 0)
    {
        mapping = default;
        if (pos < 0 || count <= 0 || count > long.MaxValue - pos)
        {
            return Ext4Errno.EINVAL;
        }

        if (WriteRefusal is not null)
        {
            return Ext4Errno.EROFS;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var rights = RightsOf(callerUid, callerGid);
        var err = OpenRegular(tx, ino, rights, out var r, out bool converted);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        long max = FileData.MaxFileSize((r.Flags & InodeLayout.EXT4_EXTENTS_FL) != 0);
        if (pos >= max)
        {
            return Ext4Errno.EFBIG;
        }

        count = Math.Min(count, max - pos);
        bool allocated = false;
        if (!zero)
        {
            err = FileData.AllocateForWrite(tx, r, pos, count, rights, out allocated);
        }

        if (allocated || converted)
        {
            WriteInode(tx, r);
        }

        if (err != Ext4Errno.None)
        {
            return err;
        }

        mapping = FileData.MappingAt(ReadInode(ino), pos, count) with { New = allocated };
        return Ext4Errno.None;
    }

    /// <summary>
    /// A write through a mapping reached the disk (IOEND): with <paramref name="unwritten"/> the
    /// blocks under [pos, pos + written) become written; i_size grows to pos + written when that
    /// is past it. Both changes go through one journaled handle. <paramref name="newSize"/> is
    /// the resulting i_size.
    /// </summary>
    public Ext4Errno CompleteFileWrite(uint ino, long pos, long written, bool unwritten, out long newSize)
    {
        newSize = 0;
        if (pos < 0 || written < 0 || written > long.MaxValue - pos)
        {
            return Ext4Errno.EINVAL;
        }

        if (WriteRefusal is not null)
        {
            return Ext4Errno.EROFS;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var err = OpenRegular(tx, ino, AllocationRights.User, out var r, out bool converted);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        bool changed = converted;
        if (unwritten)
        {
            err = FileData.ConvertWritten(tx, r, pos, written, out bool mappingChanged);
            changed |= mappingChanged;
            if (err != Ext4Errno.None)
            {
                if (changed)
                {
                    WriteInode(tx, r);
                }

                return err;
            }
        }

        if (written > 0 && pos + written > r.Size)
        {
            r.Size = pos + written;
            changed = true;
        }

        if (changed)
        {
            WriteInode(tx, r);
        }

        newSize = r.Size;
        return Ext4Errno.None;
    }

    /// <summary>s_maxbytes for FUSE_IOMAP_CONFIG: the largest i_size of a file this volume
    /// creates (extent-mapped with the extents feature, else block-mapped; ext4_max_size /
    /// ext4_max_bitmap_size).</summary>
    public long MaxFileBytes => FileData.MaxFileSize(Sb.HasIncompat(Ext4Features.INCOMPAT_EXTENTS));

    /// <summary>True when inodes have room for the extra timestamp fields (i_*_extra: nanoseconds
    /// and epoch bits), so times have 1 ns granularity and reach 2446; else 1 s and 2038.</summary>
    public bool HasExtraTimestamps => InodeSize >= OffsetOfCrtime;

    /// <summary>offsetof(struct ext4_inode, i_crtime): past it the inode holds ctime/mtime/atime_extra
    /// (the test fuse4fs uses for its IOMAP_CONFIG time range, FUSE-PROTOCOL.md §2.8).</summary>
    private const int OffsetOfCrtime = 0x90;

    /// <summary>
    /// FUSE_SHUTDOWN_FS (super_operations->shutdown: the block device is going away): the volume
    /// enters the shut-down state errors=panic uses, so operations fail with
    /// <see cref="Ext4ShutDownException"/> instead of writing to a device that is gone.
    /// </summary>
    public void ShutDown()
    {
        int current;
        do
        {
            current = Volatile.Read(ref _errorState);
        }
        while (current < ErrorStateShutDown && Interlocked.CompareExchange(ref _errorState, ErrorStateShutDown, current) != current);
    }
}
