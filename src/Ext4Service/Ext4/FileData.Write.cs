using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;

namespace Safemount.Ext4;

/// <summary>
/// File data mutation over a <see cref="MappingEditor"/> (kernel: ext4_map_blocks with
/// EXT4_GET_BLOCKS_CREATE, ext4_truncate, ext4_punch_hole, ext4_zero_range,
/// ext4_alloc_file_blocks). Every method runs under the inode's exclusive lock inside the
/// caller's handle, edits <paramref name="r"/> (size, i_blocks, i_block) and leaves writing the
/// record and the timestamps to the caller. Data goes to the device through tx.WriteData/ZeroData;
/// the order within one operation is: allocate and map (in memory), commit the mapping, zero
/// the uncovered parts of blocks that were new or unwritten, write the data.
/// </summary>
internal sealed partial class FileData
{
    /// <summary>
    /// An editor for the inode's mapping format. i_block must be a mapping: never call this for
    /// an inline-data inode or a fast symlink (their i_block holds bytes, not block numbers).
    /// </summary>
    internal MappingEditor OpenEditor(InodeRecord r)
    {
        if ((r.Flags & InodeLayout.EXT4_INLINE_DATA_FL) != 0)
        {
            throw new InvalidOperationException($"inode {r.Number} has inline data: i_block is not a block mapping");
        }

        return (r.Flags & InodeLayout.EXT4_EXTENTS_FL) != 0 ? new ExtentTree.Editor(_v, r) : new BlockMap.Editor(_v, r);
    }

    /// <summary>
    /// s_maxbytes (extents, ext4_max_size) or s_bitmap_maxbytes (block maps, ext4_max_bitmap_size):
    /// the largest i_size, bounded by 32-bit logical block numbers and, without huge_file, by
    /// a 32-bit i_blocks count of 512-byte sectors (data and mapping blocks together).
    /// </summary>
    public long MaxFileSize(bool extents)
    {
        int bits = _v.BlockSizeBits;
        bool huge = _v.Sb.HasRoCompat(Ext4Features.RO_COMPAT_HUGE_FILE);
        ulong upper = huge ? (1UL << 48) - 1 : ((1UL << 32) - 1) >> (bits - 9); // in file-system blocks
        ulong blocks;
        if (extents)
        {
            blocks = Math.Min((1UL << 32) - 1, huge ? ulong.MaxValue : upper);
        }
        else
        {
            ulong p = _v.BlockSize / 4;
            ulong data = BlockMap.DirectBlocks + p + (p * p) + (p * p * p);
            ulong meta = 1 + (1 + p) + (1 + p + (p * p));
            if (data + meta <= upper)
            {
                blocks = data;
            }
            else
            {
                // Metadata needed to address `upper` blocks densely comes out of the budget.
                ulong rest = upper - BlockMap.DirectBlocks - p;
                meta = 1;
                if (rest < p * p)
                {
                    meta += 1 + ((rest + p - 1) / p);
                }
                else
                {
                    meta += 1 + p;
                    rest -= p * p;
                    meta += 1 + ((rest + p - 1) / p) + ((rest + (p * p) - 1) / (p * p));
                }

                blocks = upper - meta;
            }

            blocks = Math.Min(blocks, (1UL << 32) - 1);
        }

        return (long)Math.Min(blocks << bits, (ulong)long.MaxValue);
    }

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/>: holes get new blocks (one
    /// allocation per hole run, goal-directed, so a large write is a few long extents),
    /// unwritten blocks are converted, i_size grows to the end of what was written. A write
    /// past EOF leaves the gap a hole. At ENOSPC part-way the write is short (written &lt;
    /// length) and returns None; ENOSPC only when nothing could be written. EFBIG when
    /// <paramref name="offset"/> is at or past the maximum file size (a write crossing it is cut).
    /// </summary>
    public Ext4Errno Write(Ext4Transaction tx, InodeRecord r, long offset, ReadOnlySpan<byte> data, AllocationRights rights, out int written)
    {
        written = 0;
        var ed = OpenEditor(r);
        long max = MaxFileSize(ed.SupportsUnwritten);
        if (offset >= max)
        {
            return Ext4Errno.EFBIG;
        }

        if (data.IsEmpty)
        {
            return Ext4Errno.None;
        }

        if (data.Length > max - offset)
        {
            data = data[..(int)(max - offset)];
        }

        int bits = _v.BlockSizeBits;
        long end = offset + data.Length;
        uint first = (uint)(offset >> bits);
        uint last = (uint)((end - 1) >> bits);
        var fresh = new List<(uint Logical, ulong Physical, uint Count, bool Allocated)>();
        var err = MapRange(tx, ed, first, last, unwritten: false, convert: true, rights, fresh, out uint stop);
        if (stop == first)
        {
            return err == Ext4Errno.None ? Ext4Errno.ENOSPC : err;
        }

        var commit = CommitOrFree(tx, ed, fresh);
        if (commit != Ext4Errno.None)
        {
            return commit;
        }

        long dataEnd = Math.Min(end, (long)stop << bits);
        ZeroTailPastEof(tx, r, ed, dataEnd);
        ZeroUncoveredEdges(tx, fresh, offset, dataEnd);
        long pos = offset;
        while (pos < dataEnd)
        {
            uint lblk = (uint)(pos >> bits);
            int inBlock = (int)(pos & (_v.BlockSize - 1));
            var run = ed.Map(lblk, (uint)(((dataEnd - 1) >> bits) - lblk + 1));
            if (run.Kind != BlockRunKind.Mapped)
            {
                throw new InvalidOperationException($"inode {r.Number}: logical block {lblk} is {run.Kind} right after mapping it");
            }

            int bytes = (int)Math.Min(dataEnd - pos, ((long)run.Length << bits) - inBlock);
            tx.WriteData(run.Physical, inBlock, data.Slice((int)(pos - offset), bytes));
            pos += bytes;
        }

        written = (int)(dataEnd - offset);
        ApplyBlocks(r, ed);
        if (dataEnd > r.Size)
        {
            r.Size = dataEnd;
        }

        return Ext4Errno.None;
    }

    /// <summary>
    /// Sets i_size (ext4_setattr's size change; also how a directory's or slow symlink's blocks
    /// are released: size 0 frees them all). Down: the tail of the new last block is
    /// zeroed on disk (ext4_block_truncate_page) and every block from the next one on is
    /// freed, preallocated blocks past EOF included (ext4_truncate; also when the size does not
    /// change, so SetSize(r, r.Size) drops preallocation past EOF). Up: the old last block's
    /// bytes past the old EOF are zeroed; the new range is a hole.
    /// </summary>
    public Ext4Errno SetSize(Ext4Transaction tx, InodeRecord r, long size)
    {
        var ed = OpenEditor(r);
        if (size > MaxFileSize(ed.SupportsUnwritten))
        {
            return Ext4Errno.EFBIG;
        }

        if (size <= r.Size)
        {
            // Also at an unchanged size: blocks past EOF (KEEP_SIZE preallocation) go, as
            // ext4_setattr calls ext4_truncate whenever the new size is not larger.
            int bits = _v.BlockSizeBits;
            if (size < r.Size && (size & (_v.BlockSize - 1)) != 0)
            {
                ZeroInBlock(tx, ed, size, ((size >> bits) + 1) << bits);
            }

            ulong from = ((ulong)size + _v.BlockSize - 1) >> bits;
            if (from < ed.LogicalLimit)
            {
                MappingChanging(ed, from, ulong.MaxValue);
                ed.Remove(tx, (uint)from, ed.LogicalLimit - from);
            }

            var err = ed.Commit(tx);
            if (err != Ext4Errno.None)
            {
                return err;
            }
        }
        else
        {
            ZeroTailPastEof(tx, r, ed, size);
        }

        ApplyBlocks(r, ed);
        r.Size = size;
        return Ext4Errno.None;
    }

    /// <summary>
    /// The dirs engineer's primitive: the physical block of logical block
    /// <paramref name="lblk"/> of a directory (or any block-mapped/extent file), allocating and
    /// mapping one when it is a hole (<paramref name="isNew"/>; the caller then fills it with
    /// tx.Create). i_blocks and i_block are updated in <paramref name="r"/>; i_size is the
    /// caller's. ENOSPC when no block can be had.
    /// </summary>
    public Ext4Errno MapOrAllocateBlock(Ext4Transaction tx, InodeRecord r, uint lblk, AllocationRights rights, out ulong physical, out bool isNew)
    {
        physical = 0;
        isNew = false;
        var ed = OpenEditor(r);
        var run = ed.Map(lblk, 1);
        if (run.Kind == BlockRunKind.Mapped)
        {
            physical = run.Physical;
            return Ext4Errno.None;
        }

        if (run.Kind == BlockRunKind.Unwritten)
        {
            throw new Ext4CorruptionException($"inode {r.Number}: logical block {lblk} of a directory is unwritten");
        }

        if (lblk >= ed.LogicalLimit)
        {
            return Ext4Errno.EFBIG;
        }

        var err = _v.BlockAllocator.Allocate(tx, ed.Goal(lblk), 1, rights, out ulong s, out _);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        err = ed.MapNew(tx, lblk, 1, s, false, out uint mapped);
        if (err == Ext4Errno.None)
        {
            err = ed.Commit(tx);
        }

        if (err != Ext4Errno.None || mapped == 0)
        {
            _v.BlockAllocator.Free(tx, s, 1);
            return err == Ext4Errno.None ? Ext4Errno.ENOSPC : err;
        }

        ApplyBlocks(r, ed);
        physical = s;
        isNew = true;
        return Ext4Errno.None;
    }

    /// <summary>
    /// Maps every hole of logical blocks [first, last] (new blocks unwritten or not), and with
    /// <paramref name="convert"/> turns unwritten blocks written; each new or converted run
    /// is appended to <paramref name="fresh"/>. Stops at the first error (ENOSPC);
    /// <paramref name="stop"/> is the first block not handled (last + 1 when all were).
    /// </summary>
    private Ext4Errno MapRange(Ext4Transaction tx, MappingEditor ed, uint first, uint last, bool unwritten, bool convert,
        AllocationRights rights, List<(uint Logical, ulong Physical, uint Count, bool Allocated)> fresh, out uint stop)
    {
        ulong l = first;
        var err = Ext4Errno.None;
        while (l <= last)
        {
            var run = ed.Map((uint)l, (uint)(last - l + 1));
            if (run.Kind == BlockRunKind.Hole)
            {
                err = _v.BlockAllocator.Allocate(tx, ed.Goal((uint)l), run.Length, rights, out ulong s, out uint n);
                if (err != Ext4Errno.None)
                {
                    break;
                }

                err = ed.MapNew(tx, (uint)l, n, s, unwritten, out uint mapped);
                if (mapped < n)
                {
                    _v.BlockAllocator.Free(tx, s + mapped, n - mapped);
                }

                if (mapped > 0)
                {
                    fresh.Add(((uint)l, s, mapped, true));
                }

                l += mapped;
                if (err != Ext4Errno.None)
                {
                    break;
                }
            }
            else if (run.Kind == BlockRunKind.Unwritten && convert)
            {
                MappingChanging(ed, l, run.Length);
                ed.SetUnwritten((uint)l, run.Length, unwritten: false, new List<ExtentTree.Extent>());
                fresh.Add(((uint)l, run.Physical, run.Length, false));
                l += run.Length;
            }
            else
            {
                l += run.Length;
            }
        }

        stop = (uint)Math.Min(l, (ulong)last + 1);
        return err;
    }

    /// <summary>Zeroes, on disk, the parts of [offset, end) that only partly cover a block (the whole blocks are the caller's).</summary>
    private void ZeroEdges(Ext4Transaction tx, MappingEditor ed, long offset, long end)
    {
        int bits = _v.BlockSizeBits;
        long mask = _v.BlockSize - 1;
        if ((offset & mask) != 0)
        {
            ZeroInBlock(tx, ed, offset, Math.Min(end, ((offset >> bits) + 1) << bits));
        }

        // The tail edge, unless the head edge above already covered it (both in one block with
        // an unaligned start); an aligned start in the same block is covered only here.
        if ((end & mask) != 0 && ((offset & mask) == 0 || (end >> bits) != (offset >> bits)))
        {
            ZeroInBlock(tx, ed, (end >> bits) << bits, end);
        }
    }

    /// <summary>Zeroes bytes [from, to) of one block on disk if that block is mapped and written (holes and unwritten blocks already read as zeros).</summary>
    private void ZeroInBlock(Ext4Transaction tx, MappingEditor ed, long from, long to)
    {
        if (to <= from)
        {
            return;
        }

        int bits = _v.BlockSizeBits;
        ulong lblk = (ulong)from >> bits;
        if (lblk >= ed.LogicalLimit || (ulong)(to - 1) >> bits != lblk)
        {
            return;
        }

        var run = ed.Map((uint)lblk, 1);
        if (run.Kind == BlockRunKind.Mapped)
        {
            int inBlock = (int)(from & (_v.BlockSize - 1));
            tx.WriteData(run.Physical, inBlock, new byte[to - from]);
        }
    }

    /// <summary>Before i_size grows to <paramref name="newEnd"/>: the old last block's bytes past the old EOF are zeroed (they become visible).</summary>
    private void ZeroTailPastEof(Ext4Transaction tx, InodeRecord r, MappingEditor ed, long newEnd)
    {
        long size = r.Size;
        int bits = _v.BlockSizeBits;
        if (newEnd <= size || (size & (_v.BlockSize - 1)) == 0)
        {
            return;
        }

        ZeroInBlock(tx, ed, size, ((size >> bits) + 1) << bits);
    }

    /// <summary>In new or converted runs, zeroes the head of the block holding <paramref name="from"/> and the tail of the block holding <paramref name="to"/> - 1, where the data does not cover them.</summary>
    private void ZeroUncoveredEdges(Ext4Transaction tx, List<(uint Logical, ulong Physical, uint Count, bool Allocated)> fresh, long from, long to)
    {
        int bits = _v.BlockSizeBits;
        uint bs = _v.BlockSize;
        uint headBlock = (uint)(from >> bits);
        uint tailBlock = (uint)((to - 1) >> bits);
        foreach (var (logical, physical, count, _) in fresh)
        {
            if ((from & (bs - 1)) != 0 && headBlock >= logical && headBlock < logical + count)
            {
                tx.WriteData(physical + (headBlock - logical), 0, new byte[from & (bs - 1)]);
            }

            if ((to & (bs - 1)) != 0 && tailBlock >= logical && tailBlock < logical + count)
            {
                int tailFrom = (int)(to & (bs - 1));
                tx.WriteData(physical + (tailBlock - logical), tailFrom, new byte[bs - tailFrom]);
            }
        }
    }

    /// <summary>
    /// Writes the mapping changes of <paramref name="ed"/>; when that fails, gives back the blocks
    /// <paramref name="fresh"/> lists as allocated, so a failed edit leaks no block.
    /// </summary>
    private Ext4Errno CommitOrFree(Ext4Transaction tx, MappingEditor ed, List<(uint Logical, ulong Physical, uint Count, bool Allocated)> fresh)
    {
        var commit = ed.Commit(tx);
        if (commit != Ext4Errno.None)
        {
            FreeAllocated(tx, fresh);
        }

        return commit;
    }

    private void FreeAllocated(Ext4Transaction tx, List<(uint Logical, ulong Physical, uint Count, bool Allocated)> fresh)
    {
        foreach (var f in fresh)
        {
            if (f.Allocated)
            {
                _v.BlockAllocator.Free(tx, f.Physical, f.Count);
            }
        }
    }

    private void ApplyBlocks(InodeRecord r, MappingEditor ed)
    {
        long sectors = (long)r.Blocks512 + (ed.BlocksDelta * (_v.BlockSize / 512));
        if (sectors < 0)
        {
            throw new Ext4CorruptionException($"inode {r.Number}: i_blocks {r.Blocks512} is smaller than the blocks it maps");
        }

        r.Blocks512 = (ulong)sectors;
    }
}
