using Safemount.Ext4.Storage;

namespace Safemount.Ext4;

/// <summary>
/// Parsed extent trees (<see cref="ExtentTree.LoadAll(Ext4Volume, uint, uint, ReadOnlySpan{byte}, List{ulong}, List{ulong})"/>
/// results) of recently edited inodes, so a run of writes to one file does not re-walk,
/// re-validate and re-checksum its tree on every request (kernel counterpart: the extent status
/// tree, fs/ext4/extents_status.c, which ext4_map_blocks consults before ext4_ext_map_blocks).
///
/// Invariant (why an entry can never be stale): LoadAll is a function of its inputs only,
/// namely the inode number, the checksum seed, the 60 root bytes of i_block and the contents of
/// the tree blocks it reads through <see cref="BlockCache.Get(ulong)"/> (plus volume facts
/// fixed for the mount: block count, system zone, metadata_csum). An entry keeps a copy of the
/// root and the cache arrays it parsed; it is used only when the inode number, seed and root
/// bytes are equal and <see cref="BlockCache.TryGet"/> returns the very same array for every
/// tree block. A cache array is never written after it is handed out (a change installs a
/// new array, Ext4Transaction.Modify), so the same array means the same bytes, and by induction
/// from the root down the same tree. Nothing has to invalidate entries: allocation, truncate,
/// punch, zero range, unwritten conversion, inode reuse, eviction from the block cache and
/// journal replay all change the root bytes or install or drop a tree block, and the next
/// lookup parses again. Callers get copies: an entry is immutable once published.
///
/// Bounded: <see cref="Slots"/> entries, direct-mapped by inode number, each at most
/// <see cref="MaxExtents"/> extents (a larger tree is parsed every time, as without the cache):
/// at most 64 × 1024 × 24 bytes of extents, and the tree block versions they pin.
/// Thread-safe without locks: slots hold immutable entries, replaced by reference.
/// </summary>
internal sealed class ExtentCache
{
    /// <summary>Number of entries (a power of two: slot = inode number mod Slots).</summary>
    public const int Slots = 64;

    /// <summary>Largest tree (in extents) an entry keeps.</summary>
    public const int MaxExtents = 1024;

    private readonly Ext4Volume _v;
    private readonly Entry?[] _slots = new Entry?[Slots];
    private long _hits;
    private long _parses;

    public ExtentCache(Ext4Volume volume) => _v = volume;

    /// <summary>Lookups answered from an entry (diagnostics and tests).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups that parsed the tree (diagnostics and tests).</summary>
    public long Parses => Interlocked.Read(ref _parses);

    /// <summary>
    /// As <see cref="ExtentTree.LoadAll(Ext4Volume, uint, uint, ReadOnlySpan{byte}, List{ulong}, List{ulong})"/>
    /// (same result, same validation on a parse); <paramref name="leafBlocks"/> and
    /// <paramref name="indexBlocks"/> must be empty. The returned list is the caller's to edit.
    /// </summary>
    public List<ExtentTree.Extent> Load(uint ino, uint seed, ReadOnlySpan<byte> root, List<ulong> leafBlocks, List<ulong> indexBlocks)
    {
        if (leafBlocks.Count != 0 || indexBlocks.Count != 0)
        {
            throw new ArgumentException("the block lists must start empty");
        }

        int slot = (int)(ino & (Slots - 1));
        var e = Volatile.Read(ref _slots[slot]);
        if (e is not null && e.Matches(ino, seed, root, _v.Cache))
        {
            Interlocked.Increment(ref _hits);
            leafBlocks.AddRange(e.LeafBlocks);
            indexBlocks.AddRange(e.IndexBlocks);
            return new List<ExtentTree.Extent>(e.Extents);
        }

        Interlocked.Increment(ref _parses);
        var versions = new List<(ulong Block, byte[] Data)>();
        var extents = ExtentTree.LoadAll(_v, ino, seed, root, leafBlocks, indexBlocks, versions);
        if (extents.Count <= MaxExtents)
        {
            Volatile.Write(ref _slots[slot], new Entry(ino, seed, root.ToArray(), extents.ToArray(),
                leafBlocks.ToArray(), indexBlocks.ToArray(), versions.ToArray()));
        }

        return extents;
    }

    /// <summary>One parsed tree and what it was parsed from. Immutable.</summary>
    private sealed class Entry(uint ino, uint seed, byte[] root, ExtentTree.Extent[] extents, ulong[] leafBlocks,
        ulong[] indexBlocks, (ulong Block, byte[] Data)[] versions)
    {
        public ExtentTree.Extent[] Extents { get; } = extents;

        public ulong[] LeafBlocks { get; } = leafBlocks;

        public ulong[] IndexBlocks { get; } = indexBlocks;

        /// <summary>Same inode, seed and root bytes, and every tree block still the array it was parsed from.</summary>
        public bool Matches(uint number, uint checksumSeed, ReadOnlySpan<byte> rootNow, BlockCache cache)
        {
            if (number != ino || checksumSeed != seed || !rootNow.SequenceEqual(root))
            {
                return false;
            }

            foreach (var (block, data) in versions)
            {
                if (!cache.TryGet(block, out byte[]? now) || !ReferenceEquals(now, data))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
