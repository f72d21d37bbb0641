using Safemount.Ext4.Allocation;

namespace Safemount.Ext4;

/// <summary>
/// Block mappings for an iomap client (the fuse-iomap data path, FUSE-PROTOCOL.md §2.7/§2.8):
/// the kernel moves the data; these answer where it lives, allocate for writes and convert
/// unwritten extents at I/O completion. Kernel counterparts: ext4_iomap_begin /
/// ext4_iomap_alloc (fs/ext4/inode.c), ext4_convert_unwritten_extents (fs/ext4/extents.c).
/// </summary>
internal sealed partial class FileData
{
    /// <summary>
    /// The mapping from the block holding <paramref name="pos"/>: allocated blocks to the end of
    /// their extent (block maps: of their physically contiguous stretch, at most to the end of
    /// one pointer block), as fuse4fs answers, so one answer serves the following reads too; a
    /// hole up to the next extent but not past the block holding <paramref name="pos"/> +
    /// <paramref name="count"/> − 1. An inline-data inode is Inline for its first block and a
    /// hole past it.
    /// </summary>
    public Ext4Mapping MappingAt(Ext4Inode inode, long pos, long count)
    {
        int bits = _v.BlockSizeBits;
        long bs = _v.BlockSize;
        long start = pos & ~(bs - 1);
        ulong first = (ulong)pos >> bits;
        ulong last = ((ulong)pos + (ulong)Math.Max(count, 1) - 1) >> bits;
        if (inode.HasInlineData)
        {
            return first == 0
                ? new Ext4Mapping(Ext4MappingKind.Inline, 0, bs, -1)
                : new Ext4Mapping(Ext4MappingKind.Hole, start, (long)(last - first + 1) << bits, -1);
        }

        BlockRun run = Map(inode, (uint)first, (uint)Math.Min(MaxLogicalBlocks - first, uint.MaxValue));
        ulong blocks = run.Kind == BlockRunKind.Hole ? Math.Min(run.Length, last - first + 1) : run.Length;
        long length = (long)blocks << bits;
        return run.Kind switch
        {
            BlockRunKind.Mapped => new Ext4Mapping(Ext4MappingKind.Mapped, start, length, (long)run.Physical << bits),
            BlockRunKind.Unwritten => new Ext4Mapping(Ext4MappingKind.Unwritten, start, length, (long)run.Physical << bits),
            _ => new Ext4Mapping(Ext4MappingKind.Hole, start, length, -1),
        };
    }

    /// <summary>
    /// Makes the blocks at <paramref name="pos"/> writable for the kernel: a hole run starting
    /// at pos (clipped to [pos, pos + count)) gets new blocks — unwritten extents on an
    /// extent-mapped file (ext4_iomap_alloc with EXT4_GET_BLOCKS_PRE_IO), zero-filled written
    /// blocks on a block-mapped one, which has no unwritten state. Mapped and unwritten runs are
    /// left as they are. i_size is not changed (IOEND does that once the data is on disk).
    /// <paramref name="allocated"/>: blocks were allocated (i_blocks and the mapping changed).
    /// </summary>
    public Ext4Errno AllocateForWrite(Ext4Transaction tx, InodeRecord r, long pos, long count, AllocationRights rights, out bool allocated)
    {
        allocated = false;
        var ed = OpenEditor(r);
        int bits = _v.BlockSizeBits;
        uint first = (uint)(pos >> bits);
        uint last = (uint)((pos + count - 1) >> bits);
        BlockRun run = ed.Map(first, last - first + 1);
        if (run.Kind != BlockRunKind.Hole)
        {
            return Ext4Errno.None;
        }

        uint end = first + run.Length - 1;
        var fresh = new List<(uint Logical, ulong Physical, uint Count, bool Allocated)>();
        var err = MapRange(tx, ed, first, end, unwritten: ed.SupportsUnwritten, convert: false, rights, fresh, out uint stop);
        if (stop == first)
        {
            return err == Ext4Errno.None ? Ext4Errno.ENOSPC : err;
        }

        var commit = CommitOrFree(tx, ed, fresh);
        if (commit != Ext4Errno.None)
        {
            return commit;
        }

        if (!ed.SupportsUnwritten)
        {
            // Block maps: the kernel may write only part of a block, and the rest must not show
            // what the block held before (fuse4fs zeroes new indirect-file blocks the same way).
            foreach (var f in fresh)
            {
                tx.ZeroData(f.Physical, f.Count);
            }
        }

        ApplyBlocks(r, ed);
        allocated = true;
        return Ext4Errno.None;
    }

    /// <summary>
    /// IOEND of a write into unwritten blocks: every unwritten block overlapping
    /// [<paramref name="pos"/>, <paramref name="pos"/> + <paramref name="written"/>) becomes
    /// written (splitting extents at the edges, ext4_convert_unwritten_extents). Partial blocks
    /// are converted whole: the kernel wrote the whole block (zeroes around the data).
    /// <paramref name="changed"/>: the mapping changed.
    /// </summary>
    public Ext4Errno ConvertWritten(Ext4Transaction tx, InodeRecord r, long pos, long written, out bool changed)
    {
        changed = false;
        if (written <= 0 || (r.Flags & Format.InodeLayout.EXT4_EXTENTS_FL) == 0)
        {
            // Only extent-mapped files have unwritten state (§2.8 IOEND).
            return Ext4Errno.None;
        }

        var ed = OpenEditor(r);
        int bits = _v.BlockSizeBits;
        ulong first = (ulong)pos >> bits;
        ulong last = ((ulong)pos + (ulong)written - 1) >> bits;
        if (first >= ed.LogicalLimit)
        {
            return Ext4Errno.EFBIG;
        }

        last = Math.Min(last, ed.LogicalLimit - 1);
        ulong l = first;
        while (l <= last)
        {
            BlockRun run = ed.Map((uint)l, (uint)(last - l + 1));
            if (run.Kind == BlockRunKind.Unwritten)
            {
                ed.SetUnwritten((uint)l, run.Length, unwritten: false, new List<ExtentTree.Extent>());
                changed = true;
            }

            l += run.Length;
        }

        if (!changed)
        {
            return Ext4Errno.None;
        }

        var err = ed.Commit(tx);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        ApplyBlocks(r, ed);
        return Ext4Errno.None;
    }
}
