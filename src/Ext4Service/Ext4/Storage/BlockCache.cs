namespace Safemount.Ext4.Storage;

/// <summary>
/// Bounded LRU cache of metadata blocks (inode table blocks, extent and index blocks, directory
/// blocks, xattr blocks). File data never goes through it. Cached arrays are shared and must
/// never be written by callers. Thread-safe: <see cref="_lock"/> guards the map and the list,
/// and is never held across device I/O (two threads missing on one block both read it; the
/// second insert wins, which is harmless for read-only data).
/// </summary>
internal sealed class BlockCache
{
    /// <summary>Even a tiny budget keeps this many blocks, enough for one deepest tree walk.</summary>
    public const int MinEntries = 64;

    private readonly IBlockDevice _device;
    private readonly int _blockSize;
    private readonly int _capacity;
    private readonly object _lock = new();
    private readonly Dictionary<ulong, LinkedListNode<(ulong Block, byte[] Data)>> _map = new(); // guarded by _lock
    private readonly LinkedList<(ulong Block, byte[] Data)> _lru = new();                         // guarded by _lock; most recent first

    public BlockCache(IBlockDevice device, int blockSize, long budgetBytes)
    {
        _device = device;
        _blockSize = blockSize;
        long entries = budgetBytes / blockSize;
        _capacity = (int)Math.Clamp(entries, MinEntries, int.MaxValue / 2);
    }

    /// <summary>Number of blocks held now.</summary>
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

    public int Capacity => _capacity;

    /// <summary>Device reads made because a block was not cached (diagnostics and tests).</summary>
    public long Misses => Interlocked.Read(ref _misses);

    private long _misses;

    /// <summary>The contents of file-system block <paramref name="block"/>; the caller has bounds-checked it.</summary>
    public byte[] Get(ulong block)
    {
        lock (_lock)
        {
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
            if (_map.TryGetValue(block, out var existing))
            {
                return existing.Value.Data;
            }

            var node = _lru.AddFirst((block, data));
            _map.Add(block, node);
            while (_map.Count > _capacity)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _map.Remove(last.Value.Block);
            }
        }

        return data;
    }
}
