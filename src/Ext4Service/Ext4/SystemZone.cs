namespace Safemount.Ext4;

/// <summary>
/// The blocks no file may map (kernel: fs/ext4/block_validity.c, the "system zone"): superblock
/// copies, group descriptor blocks (and the reserved GDT blocks owned by the resize inode),
/// block and inode bitmaps, inode tables, and the journal inode's blocks. Each run carries an
/// owner: 0 for file-system metadata, which no inode may map, or the one inode allowed to map
/// it (the journal inode its journal, the resize inode its reserved GDT blocks).
/// Invariant: runs are sorted by start, non-empty, and do not overlap. Immutable once built.
/// </summary>
internal sealed class SystemZone
{
    private readonly ulong[] _start;
    private readonly ulong[] _end;   // exclusive
    private readonly uint[] _owner;

    private SystemZone(ulong[] start, ulong[] end, uint[] owner)
    {
        _start = start;
        _end = end;
        _owner = owner;
    }

    /// <summary>Number of disjoint runs (after merging adjacent runs of one owner).</summary>
    public int Count => _start.Length;

    /// <summary>The runs in block order, as (start, exclusive end, owner).</summary>
    public IEnumerable<(ulong Start, ulong End, uint Owner)> Runs()
    {
        for (int i = 0; i < _start.Length; i++)
        {
            yield return (_start[i], _end[i], _owner[i]);
        }
    }

    /// <summary>
    /// Sorts and merges <paramref name="runs"/> (start, block count, owner). Runs of one owner
    /// that touch or overlap are merged; runs of different owners that overlap make the zone
    /// itself corrupt (the kernel refuses such a volume: its metadata claims the same blocks
    /// twice). Runs of the same owner may overlap: mkfs never makes that, but it is harmless.
    /// Returns null with <paramref name="conflict"/> set when owners collide.
    /// </summary>
    public static SystemZone? Build(List<(ulong Start, ulong Count, uint Owner)> runs, out string? conflict)
    {
        conflict = null;
        runs.RemoveAll(r => r.Count == 0);
        runs.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Owner.CompareTo(b.Owner));
        var start = new List<ulong>(runs.Count);
        var end = new List<ulong>(runs.Count);
        var owner = new List<uint>(runs.Count);
        foreach (var (s, c, o) in runs)
        {
            ulong e = s + c; // callers clamp every run to s_blocks_count, so no overflow
            int last = start.Count - 1;
            if (last >= 0 && s <= end[last])
            {
                if (owner[last] == o)
                {
                    end[last] = Math.Max(end[last], e);
                    continue;
                }

                if (s < end[last])
                {
                    conflict = $"blocks {s}-{e - 1} (owner {o}) overlap blocks {start[last]}-{end[last] - 1} (owner {owner[last]})";
                    return null;
                }
            }

            start.Add(s);
            end.Add(e);
            owner.Add(o);
        }

        return new SystemZone([.. start], [.. end], [.. owner]);
    }

    /// <summary>
    /// True when [block, block+count) overlaps no run, or only runs owned by <paramref name="ino"/>
    /// (ext4_inode_block_valid). The caller has already checked the range against s_blocks_count.
    /// </summary>
    public bool IsValid(ulong block, ulong count, uint ino)
    {
        ulong last = block + count; // exclusive; no overflow after the range check
        // First run whose end is after block.
        int lo = 0, hi = _start.Length;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (_end[mid] <= block)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        for (int i = lo; i < _start.Length && _start[i] < last; i++)
        {
            if (_owner[i] != ino || ino == 0)
            {
                return false;
            }
        }

        return true;
    }
}
