namespace Safemount.Ext4.Allocation;

/// <summary>
/// Blocks freed by transactions that have not committed yet (kernel: mballoc's
/// ext4_free_data entries, released by ext4_process_freed_data from the jbd2 commit callback).
/// Such a block is free in the bitmap the running transaction edits, but must not be handed out
/// again before the freeing transaction is durable: a crash would bring back the state in which
/// the block still belongs to its old owner, while new data may already have overwritten it in
/// place.
///
/// Two generations: <c>running</c> (freed since the last commit began) and <c>committing</c>
/// (freed by the transaction being written now). <see cref="BeginCommit"/> moves running into
/// committing inside the commit's handle barrier; <see cref="EndCommit"/> drops committing once
/// the commit block is durable. Ranges are kept per block group as (first bit, count).
/// Thread-safe: <see cref="_lock"/> is a leaf lock (taken under a group lock, never around I/O).
/// </summary>
internal sealed class FreedBlocks
{
    private readonly object _lock = new();
    private Dictionary<uint, List<(int Bit, int Count)>> _running = new();    // guarded by _lock
    private Dictionary<uint, List<(int Bit, int Count)>> _committing = new(); // guarded by _lock

    /// <summary>True while some freed block is not yet reusable.</summary>
    public bool Any
    {
        get
        {
            lock (_lock)
            {
                return _running.Count != 0 || _committing.Count != 0;
            }
        }
    }

    /// <summary>Records that bits [bit, bit+count) of group <paramref name="group"/> were freed by the running transaction.</summary>
    public void Add(uint group, int bit, int count)
    {
        lock (_lock)
        {
            if (!_running.TryGetValue(group, out var list))
            {
                list = [];
                _running.Add(group, list);
            }

            list.Add((bit, count));
        }
    }

    /// <summary>
    /// Sets, in <paramref name="bitmap"/> (a private copy of group <paramref name="group"/>'s block
    /// bitmap), the bits of every block of that group that is not reusable yet. Returns false when
    /// there is none (the copy is then unchanged).
    /// </summary>
    public bool Mask(uint group, byte[] bitmap)
    {
        lock (_lock)
        {
            bool any = MaskFrom(_running, group, bitmap);
            return MaskFrom(_committing, group, bitmap) | any;
        }
    }

    /// <summary>True when group <paramref name="group"/> has blocks that are not reusable yet.</summary>
    public bool InGroup(uint group)
    {
        lock (_lock)
        {
            return _running.ContainsKey(group) || _committing.ContainsKey(group);
        }
    }

    /// <summary>
    /// Called inside the commit's handle barrier: the running generation becomes the committing
    /// one. Returns its ranges as absolute blocks (group start from <paramref name="groupFirst"/>).
    /// </summary>
    public List<(ulong Start, uint Count)> BeginCommit(Func<uint, ulong> groupFirst)
    {
        lock (_lock)
        {
            if (_committing.Count != 0)
            {
                throw new InvalidOperationException("a commit is already in progress");
            }

            (_committing, _running) = (_running, _committing);
            var ranges = new List<(ulong Start, uint Count)>();
            foreach (var (group, list) in _committing)
            {
                ulong first = groupFirst(group);
                foreach (var (bit, count) in list)
                {
                    ranges.Add((first + (ulong)bit, (uint)count));
                }
            }

            ranges.Sort(static (a, b) => a.Start.CompareTo(b.Start));
            return ranges;
        }
    }

    /// <summary>The committing transaction is durable (or was abandoned by a failed commit that shut writing down): its blocks become reusable.</summary>
    public void EndCommit()
    {
        lock (_lock)
        {
            _committing.Clear();
        }
    }

    private static bool MaskFrom(Dictionary<uint, List<(int Bit, int Count)>> generation, uint group, byte[] bitmap)
    {
        if (!generation.TryGetValue(group, out var list))
        {
            return false;
        }

        foreach (var (bit, count) in list)
        {
            Bitmap.Set(bitmap, bit, count);
        }

        return true;
    }
}
