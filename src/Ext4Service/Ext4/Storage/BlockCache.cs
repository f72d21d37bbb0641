using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Safemount.Ext4.Storage;

/// <summary>
/// Metadata block cache (inode table, extent and index blocks, directory blocks, xattr blocks,
/// bitmaps, descriptor blocks). File data never goes through it.
///
/// Invariant: an array handed out by <see cref="Get"/> or installed by <see cref="Install"/> is
/// never written again by anyone. A change is a new array installed in place of the old one
/// (copy-on-write, see Ext4Transaction.Modify), so a reader that took a reference always sees
/// one complete version of the block, without locks.
///
/// Two sets: clean blocks in an LRU, and dirty blocks (installed since the last write-back
/// of their current version to their home location) pinned outside the LRU until
/// <see cref="MarkClean"/>. One budget, <see cref="Capacity"/> blocks, covers both: the LRU keeps
/// at most Capacity - DirtyCount clean blocks (never fewer than <see cref="MinEntries"/>), so
/// clean blocks give way while changes wait. The dirty set cannot be evicted; the caller keeps
/// it within the budget by committing and checkpointing early (Ext4Volume.MaxBacklogBlocks).
/// A third set, the unlogged blocks, names the dirty blocks installed since the last
/// <see cref="TakeUnlogged"/> (the running journal transaction); an unlogged
/// block is never unpinned, so its newest version can always be taken from the dirty set.
/// Thread-safe: <see cref="_lock"/> guards the map, the list, the dirty set and the unpin record,
/// and is never held across device I/O (two threads missing on one clean block both read it; the
/// first insert wins).
///
/// Readahead (<see cref="Get(ulong, int)"/>): a miss may read a run of following blocks in the same
/// pread (the caller bounds the run to one structure: an inode table, a directory's physically
/// contiguous extent) and insert them clean. A block that is cached (clean or dirty) when the
/// read starts ends the run; one cached or dirty when the read ends is left as it is.
///
/// Stale-read guard. A device read is not atomic with respect to the cache: while it runs,
/// another thread may install a newer version, write it home, unpin it (<see cref="MarkClean"/>)
/// and see it evicted, or drop the block (<see cref="Remove"/>); the bytes read may then be
/// older than the newest version, or torn against the write home. Invariant: a block read from
/// the device is inserted, or returned to the caller that missed, only if no unpin or removal of
/// that block happened since the read's miss was decided. Every unpin and removal takes the next
/// value of <see cref="_unpinSeq"/> and is remembered per block in <see cref="_unpinnedAt"/> for
/// the last <see cref="UnpinHistory"/> of them; a reader notes <see cref="_unpinSeq"/> at its miss
/// and, when it inserts, skips every block unpinned after that. When the record no longer reaches
/// back to the reader's note (<see cref="_forgottenThrough"/>), every block is in doubt: readahead
/// blocks are dropped and the block that missed is read again.
/// </summary>
internal sealed class BlockCache
{
    /// <summary>Even a tiny budget keeps this many clean blocks, enough for one deepest tree walk.</summary>
    public const int MinEntries = 64;

    /// <summary>
    /// Most blocks one miss reads (the missing one included): ext4's default inode_readahead_blks
    /// (EXT4_DEF_INODE_READAHEAD_BLKS, fs/ext4/ext4.h, used by __ext4_get_inode_loc in
    /// fs/ext4/inode.c). A run is also at most a quarter of the capacity, so one miss never
    /// pushes out more than a quarter of the clean blocks.
    /// </summary>
    public const int MaxReadahead = 32;

    /// <summary>Unpins and removals remembered for the stale-read guard (see the class comment): 16 bytes each plus the map entry.</summary>
    internal const int UnpinHistory = 4096;

    private readonly IBlockDevice _device;
    private readonly int _blockSize;
    private readonly int _capacity;
    private readonly object _lock = new();
    private readonly Dictionary<ulong, LinkedListNode<(ulong Block, byte[] Data)>> _map = new(); // guarded by _lock; clean blocks
    private readonly LinkedList<(ulong Block, byte[] Data)> _lru = new();                         // guarded by _lock; most recent first
    private readonly Dictionary<ulong, byte[]> _dirty = new();                                    // guarded by _lock; newest version of each dirty block
    private readonly HashSet<ulong> _unlogged = new();                                            // guarded by _lock; subset of _dirty's keys
    private readonly Dictionary<ulong, long> _unpinnedAt = new();                                 // guarded by _lock; block -> sequence number of its last unpin or removal, for those after _forgottenThrough
    private readonly Queue<(ulong Block, long Seq)> _unpinOrder = new();                         // guarded by _lock; the same, oldest first, at most UnpinHistory

    private long _unpinSeq;         // guarded by _lock; unpins (MarkClean) and removals so far
    private long _forgottenThrough; // guarded by _lock; unpins numbered up to this one are no longer in _unpinnedAt
    private long _misses;
    private long _installs; // written under _lock; read without it (Interlocked)
    private long _readaheadBlocks;

    public BlockCache(IBlockDevice device, int blockSize, long budgetBytes)
    {
        _device = device;
        _blockSize = blockSize;
        long entries = budgetBytes / blockSize;
        _capacity = (int)Math.Clamp(entries, MinEntries, int.MaxValue / 2);
    }

    /// <summary>Number of clean blocks held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>Number of dirty (pinned) blocks.</summary>
    public int DirtyCount
    {
        get
        {
            lock (_lock)
            {
                return _dirty.Count;
            }
        }
    }

    /// <summary>Number of blocks installed since the last <see cref="TakeUnlogged"/> (the running transaction's size).</summary>
    public int UnloggedCount
    {
        get
        {
            lock (_lock)
            {
                return _unlogged.Count;
            }
        }
    }

    /// <summary>The budget in blocks (cache_size / block size, at least <see cref="MinEntries"/>): clean and dirty blocks together.</summary>
    public int Capacity => _capacity;

    public int BlockSize => _blockSize;

    /// <summary>Device reads made because a block was not cached, one per read however many blocks it covered (diagnostics and tests).</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>
    /// Number of <see cref="Install"/> calls so far: a metadata change counter. A caller that
    /// reads it while no handle can install (the commit's barrier) knows every change up to that
    /// count is in what it takes from the cache then.
    /// </summary>
    public long Installs => Interlocked.Read(ref _installs);

    /// <summary>Blocks inserted by readahead, beyond the ones that missed (diagnostics and tests).</summary>
    public long ReadaheadBlocks => Interlocked.Read(ref _readaheadBlocks);

    /// <summary>The newest version of file-system block <paramref name="block"/>; the caller has bounds-checked it. Never write to the result.</summary>
    public byte[] Get(ulong block) => Get(block, 1);

    /// <summary>The newest version of <paramref name="block"/> when it is cached (clean or dirty), without device I/O.</summary>
    public bool TryGet(ulong block, [NotNullWhen(true)] out byte[]? data)
    {
        lock (_lock)
        {
            return TryGetLocked(block, out data);
        }
    }

    /// <summary>
    /// As <see cref="Get(ulong)"/>; on a miss, reads up to <paramref name="readahead"/> blocks from
    /// <paramref name="block"/> on (at most <see cref="MaxReadahead"/>, stopping before the first one
    /// cached) in one device read and inserts the following ones clean. The caller has
    /// bounds-checked all of them and vouches that they are metadata of the same structure.
    /// </summary>
    public byte[] Get(ulong block, int readahead)
    {
        while (true)
        {
            int count;
            long seqAtMiss;
            lock (_lock)
            {
                if (TryGetLocked(block, out byte[]? cached))
                {
                    return cached;
                }

                count = RunLength(block, readahead);
                seqAtMiss = _unpinSeq;
            }

            Interlocked.Increment(ref _misses);
            byte[][] read = ReadRun(block, count);

            lock (_lock)
            {
                for (int i = 1; i < read.Length; i++)
                {
                    ulong b = block + (ulong)i;
                    if (!_dirty.ContainsKey(b) && !_map.ContainsKey(b) && MayInsert(b, seqAtMiss))
                    {
                        AddClean(b, read[i]);
                        Interlocked.Increment(ref _readaheadBlocks);
                    }
                }

                // A version installed or inserted while we were reading is newer than, or as new as, the device's.
                if (TryGetLocked(block, out byte[]? now))
                {
                    return now;
                }

                if (MayInsert(block, seqAtMiss))
                {
                    AddClean(block, read[0]);
                    return read[0];
                }
            }

            // Unpinned or removed while we read: what we read may be stale or torn. Read it again, alone.
            readahead = 1;
        }
    }

    /// <summary>
    /// Makes <paramref name="data"/> (exactly one block, never written again by anyone) the newest
    /// version of <paramref name="block"/> and pins it dirty until <see cref="MarkClean"/>.
    /// </summary>
    public void Install(ulong block, byte[] data)
    {
        if (data.Length != _blockSize)
        {
            throw new ArgumentException($"a cached block is {_blockSize} bytes, not {data.Length}", nameof(data));
        }

        lock (_lock)
        {
            if (_map.Remove(block, out var node))
            {
                _lru.Remove(node);
            }

            _dirty[block] = data;
            _unlogged.Add(block);
            Interlocked.Increment(ref _installs);
            TrimClean();
        }
    }

    /// <summary>Drops every version of <paramref name="block"/> (a freed metadata block): it will not be written back.</summary>
    public void Remove(ulong block)
    {
        lock (_lock)
        {
            if (_map.Remove(block, out var node))
            {
                _lru.Remove(node);
            }

            _dirty.Remove(block);
            _unlogged.Remove(block);
            RecordUnpin(block);
        }
    }

    /// <summary>The dirty blocks now, in ascending block order (for write-back).</summary>
    public List<(ulong Block, byte[] Data)> DirtySnapshot()
    {
        lock (_lock)
        {
            var list = new List<(ulong Block, byte[] Data)>(_dirty.Count);
            foreach (var (block, data) in _dirty)
            {
                list.Add((block, data));
            }

            list.Sort(static (a, b) => a.Block.CompareTo(b.Block));
            _unlogged.Clear();
            return list;
        }
    }

    /// <summary>
    /// The newest versions of the blocks installed since the last call, in ascending block order,
    /// and forgets that they were (jbd2: the running transaction's buffers, frozen at commit).
    /// They stay pinned dirty until <see cref="MarkClean"/> after their checkpoint.
    /// </summary>
    public List<(ulong Block, byte[] Data)> TakeUnlogged()
    {
        lock (_lock)
        {
            var list = new List<(ulong Block, byte[] Data)>(_unlogged.Count);
            foreach (ulong block in _unlogged)
            {
                list.Add((block, _dirty[block]));
            }

            list.Sort(static (a, b) => a.Block.CompareTo(b.Block));
            _unlogged.Clear();
            return list;
        }
    }

    /// <summary>
    /// <paramref name="data"/> of <paramref name="block"/> has reached its home location: unpin it
    /// unless a newer version was installed meanwhile or it was installed again since the last
    /// <see cref="TakeUnlogged"/> (that one stays dirty).
    /// </summary>
    public void MarkClean(ulong block, byte[] data)
    {
        lock (_lock)
        {
            if (_dirty.TryGetValue(block, out var current) && ReferenceEquals(current, data) && !_unlogged.Contains(block))
            {
                _dirty.Remove(block);
                AddClean(block, data);
                RecordUnpin(block);
            }
        }
    }

    /// <summary>Caller holds <see cref="_lock"/>. The newest cached version, clean ones moved to the front of the LRU.</summary>
    private bool TryGetLocked(ulong block, [NotNullWhen(true)] out byte[]? data)
    {
        if (_dirty.TryGetValue(block, out data))
        {
            return true;
        }

        if (_map.TryGetValue(block, out var node))
        {
            _lru.Remove(node);
            _lru.AddFirst(node);
            data = node.Value.Data;
            return true;
        }

        data = null;
        return false;
    }

    /// <summary>Caller holds <see cref="_lock"/>. Blocks to read for a miss of <paramref name="block"/>: it, then following uncached ones, at most min(<paramref name="readahead"/>, <see cref="MaxReadahead"/>, capacity / 4).</summary>
    private int RunLength(ulong block, int readahead)
    {
        int limit = Math.Min(Math.Min(readahead, MaxReadahead), _capacity / 4);
        int count = 1;
        while (count < limit && block + (ulong)count > block
               && !_dirty.ContainsKey(block + (ulong)count) && !_map.ContainsKey(block + (ulong)count))
        {
            count++;
        }

        return count;
    }

    /// <summary>Reads blocks [block, block + count) in one device read; one fresh array per block.</summary>
    private byte[][] ReadRun(ulong block, int count)
    {
        var blocks = new byte[count][];
        long offset = checked((long)block * _blockSize);
        if (count == 1)
        {
            blocks[0] = new byte[_blockSize];
            _device.Read(offset, blocks[0]);
            return blocks;
        }

        byte[] run = ArrayPool<byte>.Shared.Rent(count * _blockSize);
        try
        {
            _device.Read(offset, run.AsSpan(0, count * _blockSize));
            for (int i = 0; i < count; i++)
            {
                blocks[i] = run.AsSpan(i * _blockSize, _blockSize).ToArray();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(run);
        }

        return blocks;
    }

    /// <summary>Caller holds <see cref="_lock"/>. False when <paramref name="block"/> may have been unpinned or removed since <paramref name="seqAtMiss"/> (the stale-read guard, class comment).</summary>
    private bool MayInsert(ulong block, long seqAtMiss)
    {
        if (_unpinSeq == seqAtMiss)
        {
            return true;
        }

        if (seqAtMiss < _forgottenThrough)
        {
            return false;
        }

        return !(_unpinnedAt.TryGetValue(block, out long seq) && seq > seqAtMiss);
    }

    /// <summary>Caller holds <see cref="_lock"/>. Numbers an unpin or removal of <paramref name="block"/> and remembers it, forgetting the oldest beyond <see cref="UnpinHistory"/>.</summary>
    private void RecordUnpin(ulong block)
    {
        long seq = ++_unpinSeq;
        _unpinnedAt[block] = seq;
        _unpinOrder.Enqueue((block, seq));
        while (_unpinOrder.Count > UnpinHistory)
        {
            var (oldBlock, oldSeq) = _unpinOrder.Dequeue();
            if (_unpinnedAt.TryGetValue(oldBlock, out long last) && last == oldSeq)
            {
                _unpinnedAt.Remove(oldBlock);
            }

            _forgottenThrough = oldSeq;
        }
    }

    /// <summary>Caller holds <see cref="_lock"/>.</summary>
    private void AddClean(ulong block, byte[] data)
    {
        var node = _lru.AddFirst((block, data));
        _map.Add(block, node);
        TrimClean();
    }

    /// <summary>Caller holds <see cref="_lock"/>. Evicts least recently used clean blocks until clean + dirty fit the budget, keeping at least <see cref="MinEntries"/> clean.</summary>
    private void TrimClean()
    {
        int keep = Math.Max(MinEntries, _capacity - _dirty.Count);
        while (_map.Count > keep)
        {
            var last = _lru.Last!;
            _lru.RemoveLast();
            _map.Remove(last.Value.Block);
        }
    }
}
