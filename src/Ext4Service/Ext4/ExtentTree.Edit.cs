namespace Safemount.Ext4;

/// <summary>
/// Edits of a file's extent list, the flattened leaf level of its tree (kernel:
/// ext4_ext_insert_extent's merge rules, ext4_ext_remove_space's splitting,
/// ext4_split_extent / ext4_ext_convert_to_initialized). Invariant kept by every method: the
/// list is sorted by Logical, extents do not overlap, every length is within
/// <see cref="Extent.MaxLength"/>, and no two neighbours could be merged at the point they were
/// joined (merging is attempted only around an edit, as the kernel does).
/// </summary>
internal static partial class ExtentTree
{
    /// <summary>
    /// Adds a mapping of [e.Logical, e.End) that overlaps no extent of <paramref name="list"/>
    /// (the caller only maps holes), split into pieces of at most MaxLength, merged with its
    /// neighbours when physically contiguous in the same written state and the sum fits.
    /// </summary>
    public static void InsertExtent(List<Extent> list, Extent e)
    {
        if (e.Length == 0)
        {
            return;
        }

        int i = FirstEndingAfter(list, e.Logical);
        if (i < list.Count && list[i].Logical < e.End)
        {
            throw new InvalidOperationException($"extent {e} overlaps {list[i]}");
        }

        while (e.Length > 0)
        {
            uint n = Math.Min(e.Length, e.MaxLength);
            var piece = e with { Length = n };
            list.Insert(i, piece);
            i = MergeAround(list, i);
            e = new Extent(e.Logical + n, e.Length - n, e.Physical + n, e.Unwritten);
            i++;
        }
    }

    /// <summary>
    /// Removes logical blocks [start, start+count) from the list, splitting extents that
    /// straddle either edge, and appends the removed pieces (with their physical blocks, for
    /// the caller to free) to <paramref name="removed"/> in logical order.
    /// </summary>
    public static void RemoveRange(List<Extent> list, uint start, ulong count, List<Extent> removed)
    {
        ulong end = Math.Min((ulong)start + count, 1UL << 32);
        int i = FirstEndingAfter(list, start);
        while (i < list.Count && list[i].Logical < end)
        {
            var x = list[i];
            ulong cutFrom = Math.Max(x.Logical, start);
            ulong cutTo = Math.Min(x.End, end);
            uint headLen = (uint)(cutFrom - x.Logical);
            uint tailLen = (uint)(x.End - cutTo);
            removed.Add(new Extent((uint)cutFrom, (uint)(cutTo - cutFrom), x.Physical + headLen, x.Unwritten));
            list.RemoveAt(i);
            if (headLen > 0)
            {
                list.Insert(i++, x with { Length = headLen });
            }

            if (tailLen > 0)
            {
                list.Insert(i++, new Extent((uint)cutTo, tailLen, x.Physical + (cutTo - x.Logical), x.Unwritten));
            }
        }
    }

    /// <summary>
    /// Sets the written state of every mapped block in [start, start+count) to
    /// <paramref name="unwritten"/> (holes stay holes), splitting at the edges and merging
    /// the result with its neighbours. Appends the pieces whose state changed to
    /// <paramref name="changed"/> (a conversion to written must zero the parts of those blocks
    /// the caller does not overwrite).
    /// </summary>
    public static void SetUnwritten(List<Extent> list, uint start, ulong count, bool unwritten, List<Extent> changed)
    {
        ulong end = Math.Min((ulong)start + count, 1UL << 32);
        int i = FirstEndingAfter(list, start);
        var flip = new List<Extent>();
        for (int j = i; j < list.Count && list[j].Logical < end; j++)
        {
            if (list[j].Unwritten != unwritten)
            {
                flip.Add(list[j]);
            }
        }

        foreach (var x in flip)
        {
            uint from = (uint)Math.Max(x.Logical, start);
            ulong to = Math.Min(x.End, end);
            var cut = new List<Extent>(1);
            RemoveRange(list, from, to - from, cut);
            foreach (var piece in cut)
            {
                var turned = piece with { Unwritten = unwritten };
                changed.Add(turned);
                InsertExtent(list, turned);
            }
        }
    }

    /// <summary>Index of the first extent whose End is after <paramref name="lblk"/> (list.Count when none).</summary>
    public static int FirstEndingAfter(List<Extent> list, ulong lblk) =>
        FirstEndingAfter(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list), lblk);

    /// <summary>Index of the first extent of the sorted <paramref name="extents"/> whose End is after <paramref name="lblk"/> (Length when none).</summary>
    public static int FirstEndingAfter(ReadOnlySpan<Extent> extents, ulong lblk)
    {
        int lo = 0, hi = extents.Length;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (extents[mid].End <= lblk)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// The mapping of <paramref name="lblk"/> in the sorted, non-overlapping
    /// <paramref name="extents"/>: the run of the extent holding it (at most
    /// <paramref name="maxBlocks"/>, at least 1), or the hole up to the next extent (or 2^32).
    /// </summary>
    public static BlockRun MapSorted(ReadOnlySpan<Extent> extents, uint lblk, uint maxBlocks)
    {
        maxBlocks = Math.Max(maxBlocks, 1);
        int i = FirstEndingAfter(extents, lblk);
        if (i < extents.Length && extents[i].Logical <= lblk)
        {
            var e = extents[i];
            uint n = (uint)Math.Min(e.End - lblk, maxBlocks);
            return new BlockRun(e.Unwritten ? BlockRunKind.Unwritten : BlockRunKind.Mapped, e.Physical + (lblk - e.Logical), n);
        }

        ulong next = i < extents.Length ? extents[i].Logical : 1UL << 32;
        return new BlockRun(BlockRunKind.Hole, 0, (uint)Math.Min(next - lblk, maxBlocks));
    }

    /// <summary>Merges list[i] into its left neighbour and then its right one when possible; returns the index of the extent that now holds list[i]'s blocks.</summary>
    private static int MergeAround(List<Extent> list, int i)
    {
        if (i > 0 && list[i - 1].CanAppend(list[i]))
        {
            list[i - 1] = list[i - 1] with { Length = list[i - 1].Length + list[i].Length };
            list.RemoveAt(i);
            i--;
        }

        if (i + 1 < list.Count && list[i].CanAppend(list[i + 1]))
        {
            list[i] = list[i] with { Length = list[i].Length + list[i + 1].Length };
            list.RemoveAt(i + 1);
        }

        return i;
    }
}
