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
/// Two sets: clean blocks in a bounded LRU, and dirty blocks (installed since the last write-back
/// of their current version to their home location) pinned outside the LRU until
/// <see cref="MarkClean"/>; the dirty set is unbounded here and bounded by the caller's commit
/// and checkpoint policy. A third set, the unlogged blocks, names the dirty blocks installed
/// since the last <see cref="TakeUnlogged"/> (the running journal transaction); an unlogged
/// block is never unpinned, so its newest version can always be taken from the dirty set.
/// Thread-safe: <see cref="_lock"/> guards the map, the list and the dirty set, and is never held
/// across device I/O (two threads missing on one clean block both read it; the first insert wins).
/// </summary>
internal sealed class BlockCache
{
    /// <summary>Even a tiny budget keeps this many clean blocks, enough for one deepest tree walk.</summary>
    public const int MinEntries = 64;

    private readonly IBlockDevice _device;
    private readonly int _blockSize;
    private readonly int _capacity;
    private readonly object _lock = new();
    private readonly Dictionary<ulong, LinkedListNode<(ulong Block, byte[] Data)>> _map = new(); // guarded by _lock; clean blocks
    private readonly LinkedList<(ulong Block, byte[] Data)> _lru = new();                         // guarded by _lock; most recent first
    private readonly Dictionary<ulong, byte[]> _dirty = new();                                    // guarded by _lock; newest version of each dirty block
    private readonly HashSet<ulong> _unlogged = new();                                            // guarded by _lock; subset of _dirty's keys

    private long _misses;

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

    public int Capacity => _capacity;

    public int BlockSize => _blockSize;

    /// <summary>Device reads made because a block was not cached (diagnostics and tests).</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The newest version of file-system block <paramref name="block"/>; the caller has bounds-checked it. Never write to the result.</summary>
    public byte[] Get(ulong block)
    {
        lock (_lock)
        {
            if (_dirty.TryGetValue(block, out var dirty))
            {
                return dirty;
            }

            if (_map.TryGetValue(block, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                return node.Value.Data;
            }
        }

        Interlocked.Increment(ref _misses);
        var data = new byte[_blockSize];
        _device.Read(checked((long)block * _blockSize), data);

        lock (_lock)
        {
            // A version installed while we were reading is newer than the device's.
            if (_dirty.TryGetValue(block, out var dirty))
            {
                return dirty;
            }

            if (_map.TryGetValue(block, out var existing))
            {
                return existing.Value.Data;
            }

            AddClean(block, data);
        }

        return data;
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
            }
        }
    }

    /// <summary>Caller holds <see cref="_lock"/>.</summary>
    private void AddClean(ulong block, byte[] data)
    {
        var node = _lru.AddFirst((block, data));
        _map.Add(block, node);
        while (_map.Count > _capacity)
        {
            var last = _lru.Last!;
            _lru.RemoveLast();
            _map.Remove(last.Value.Block);
        }
    }
}
