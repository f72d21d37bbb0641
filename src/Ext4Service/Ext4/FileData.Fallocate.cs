using Safemount.Ext4.Allocation;

namespace Safemount.Ext4;

/// <summary>fallocate(2) (kernel: ext4_fallocate, ext4_punch_hole, ext4_zero_range); see FileData.Write.cs for the order of work.</summary>
internal sealed partial class FileData
{
    public const int FALLOC_FL_KEEP_SIZE = 0x01;
    public const int FALLOC_FL_PUNCH_HOLE = 0x02;
    public const int FALLOC_FL_ZERO_RANGE = 0x10;

    /// <summary>PAGE_SIZE: ext4_punch_hole extends a range past EOF to the end of EOF's page.</summary>
    private const long PageSize = 4096;

    /// <summary>
    /// fallocate(2) modes the kernel's ext4_fallocate supports: 0 and KEEP_SIZE allocate
    /// unwritten extents over the holes of the range (extents only); PUNCH_HOLE|KEEP_SIZE zeroes
    /// the partial blocks at the edges and frees the whole blocks between (both formats);
    /// ZERO_RANGE (optionally KEEP_SIZE, extents only) turns the whole blocks of the range into
    /// unwritten extents, allocating holes, and zeroes the partial edges. Without KEEP_SIZE the
    /// file grows to the end of the range. EOPNOTSUPP for other modes, PUNCH_HOLE without
    /// KEEP_SIZE, or preallocation on a block-mapped file; EINVAL for an empty or negative range.
    /// </summary>
    public Ext4Errno Fallocate(Ext4Transaction tx, InodeRecord r, int mode, long offset, long length, AllocationRights rights, out bool changed)
    {
        changed = false;
        const int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
        if ((mode & ~known) != 0 || ((mode & FALLOC_FL_PUNCH_HOLE) != 0 && mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)))
        {
            return Ext4Errno.EOPNOTSUPP;
        }

        if (offset < 0 || length <= 0)
        {
            return Ext4Errno.EINVAL;
        }

        var ed = OpenEditor(r);
        long max = MaxFileSize(ed.SupportsUnwritten);
        if (length > max - offset)
        {
            return Ext4Errno.EFBIG;
        }

        if ((mode & FALLOC_FL_PUNCH_HOLE) != 0)
        {
            return Punch(tx, r, ed, offset, length, out changed);
        }

        if (!ed.SupportsUnwritten)
        {
            return Ext4Errno.EOPNOTSUPP;
        }

        int bits = _v.BlockSizeBits;
        long end = offset + length;
        uint first = (uint)(offset >> bits);
        uint last = (uint)((end - 1) >> bits);
        bool keep = (mode & FALLOC_FL_KEEP_SIZE) != 0;
        var fresh = new List<(uint Logical, ulong Physical, uint Count, bool Allocated)>();
        var err = MapRange(tx, ed, first, last, unwritten: true, convert: false, rights, fresh, out uint stop);
        if ((mode & FALLOC_FL_ZERO_RANGE) != 0 && err == Ext4Errno.None)
        {
            // Whole blocks become unwritten; partial edges keep their mapping and get zeros.
            ulong fullFrom = ((ulong)offset + _v.BlockSize - 1) >> bits;
            ulong fullTo = (ulong)end >> bits;
            if (fullTo > fullFrom)
            {
                MappingChanging(ed, fullFrom, fullTo - fullFrom);
                ed.SetUnwritten((uint)fullFrom, fullTo - fullFrom, unwritten: true, new List<ExtentTree.Extent>());
            }
        }

        var commit = CommitOrFree(tx, ed, fresh);
        if (commit != Ext4Errno.None)
        {
            return commit;
        }

        long doneEnd = err == Ext4Errno.None ? end : Math.Min(end, (long)stop << bits);
        if ((mode & FALLOC_FL_ZERO_RANGE) != 0 && err == Ext4Errno.None)
        {
            ZeroEdges(tx, ed, offset, end);
        }

        if (!keep && doneEnd > r.Size)
        {
            ZeroTailPastEof(tx, r, ed, doneEnd);
            r.Size = doneEnd;
        }

        ApplyBlocks(r, ed);
        changed = true;
        return err;
    }

    /// <summary>ext4_punch_hole with KEEP_SIZE: edges zeroed, whole blocks unmapped and freed; nothing at or past EOF's page.</summary>
    private Ext4Errno Punch(Ext4Transaction tx, InodeRecord r, MappingEditor ed, long offset, long length, out bool changed)
    {
        changed = false;
        if (offset >= r.Size)
        {
            return Ext4Errno.None;
        }

        long end = offset + length;
        if (end > r.Size)
        {
            end = (r.Size + PageSize - 1) / PageSize * PageSize;
        }

        int bits = _v.BlockSizeBits;
        ulong fullFrom = ((ulong)offset + _v.BlockSize - 1) >> bits;
        ulong fullTo = (ulong)end >> bits;
        ZeroEdges(tx, ed, offset, end);
        if (fullTo > fullFrom && fullFrom < ed.LogicalLimit)
        {
            MappingChanging(ed, fullFrom, Math.Min(fullTo, ed.LogicalLimit) - fullFrom);
            ed.Remove(tx, (uint)fullFrom, Math.Min(fullTo, ed.LogicalLimit) - fullFrom);
        }

        var err = ed.Commit(tx);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        ApplyBlocks(r, ed);
        changed = true;
        return Ext4Errno.None;
    }
}
