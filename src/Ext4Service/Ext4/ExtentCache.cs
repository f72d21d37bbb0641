using Safemount.Ext4.Storage;
using X = Safemount.Ext4.Format.ExtentLayout;
using static Safemount.Ext4.Format.LittleEndian;

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
/// The read path (<see cref="TryMap"/>) uses entries too, and adds one for a small tree only
/// (depth 0, or depth 1 with few enough leaves that it fits <see cref="MaxExtents"/>), so
/// reading a file never parses more than the few blocks a walk would visit anyway.
///
/// Bounded: <see cref="Slots"/> entries, direct-mapped by inode number, each at most
/// <see cref="MaxExtents"/> extents and tree blocks of <see cref="MaxPinnedBytes"/> in all (a
/// larger tree is parsed every time, as without the cache): at most 32 × (1024 × 24 bytes of
/// extents + 64 KiB of tree block versions kept alive), under 3 MiB.
/// Thread-safe without locks: slots hold immutable entries, replaced by reference.
/// </summary>
internal sealed class ExtentCache
{
    /// <summary>Number of entries (a power of two: slot = inode number mod Slots).</summary>
    public const int Slots = 32;

    /// <summary>Largest tree (in extents) an entry keeps.</summary>
    public const int MaxExtents = 1024;

    /// <summary>Most bytes of tree blocks one entry keeps referenced (blocks × block size).</summary>
    public const int MaxPinnedBytes = 64 << 10;

    /// <summary>EXT4_GOOD_OLD_FIRST_INO: the first non-reserved inode of revision-0 file systems (s_first_ino is a rev-1 field).</summary>
    private const uint GoodOldFirstIno = 11;

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
        if (Fits(extents, versions))
        {
            Volatile.Write(ref _slots[slot], new Entry(ino, seed, root.ToArray(), extents.ToArray(),
                leafBlocks.ToArray(), indexBlocks.ToArray(), versions.ToArray()));
        }

        return extents;
    }

    /// <summary>
    /// For <see cref="ExtentTree.Map"/> on a regular file: the run at <paramref name="lblk"/>
    /// (length 1..<paramref name="maxBlocks"/>) from a matching entry, parsing and keeping a
    /// small tree on a miss. False when the tree is too large to parse whole here or fails
    /// validation: the caller walks it, so damage in one subtree fails only the reads that
    /// reach it, as without the cache.
    /// </summary>
    public bool TryMap(Ext4Inode inode, uint lblk, uint maxBlocks, out BlockRun run)
    {
        run = default;
        uint ino = inode.Number;

        // Reserved inodes (the journal among them) are mapped while the system zone is built
        // (Ext4Volume.SystemZone), which LoadAll's checks use: they always take the walk.
        if (ino < Math.Max(_v.Sb.s_first_ino, GoodOldFirstIno) || ino == _v.Sb.s_journal_inum)
        {
            return false;
        }

        ReadOnlySpan<byte> root = inode.IBlock;
        int slot = (int)(ino & (Slots - 1));
        var e = Volatile.Read(ref _slots[slot]);
        if (e is not null && e.Matches(ino, inode.ChecksumSeed, root, _v.Cache))
        {
            Interlocked.Increment(ref _hits);
        }
        else
        {
            // eh_depth and eh_entries of the root, unvalidated: LoadAll checks the header.
            int depth = U16(root, X.eh_depth);
            int entries = U16(root, X.eh_entries);
            // Parsed here only when it is sure to fit an entry (then Fits below always holds
            // for a valid tree), so a file read at random never parses on every request.
            if (depth > 1 || (depth == 1 && ((long)entries * ExtentTree.BlockCapacity(_v.BlockSize) > MaxExtents
                || (long)entries * _v.BlockSize > MaxPinnedBytes)))
            {
                return false;
            }

            Interlocked.Increment(ref _parses);
            var leafBlocks = new List<ulong>();
            var indexBlocks = new List<ulong>();
            var versions = new List<(ulong Block, byte[] Data)>();
            List<ExtentTree.Extent> extents;
            try
            {
                extents = ExtentTree.LoadAll(_v, ino, inode.ChecksumSeed, root, leafBlocks, indexBlocks, versions);
            }
            catch (Ext4CorruptionException)
            {
                return false;
            }

            if (!Fits(extents, versions))
            {
                return false;
            }

            e = new Entry(ino, inode.ChecksumSeed, root.ToArray(), extents.ToArray(), leafBlocks.ToArray(), indexBlocks.ToArray(), versions.ToArray());
            Volatile.Write(ref _slots[slot], e);
        }

        run = e.Map(lblk, Math.Max(maxBlocks, 1));
        return true;
    }

    /// <summary>Whether a parsed tree is within the per-entry bounds.</summary>
    private bool Fits(List<ExtentTree.Extent> extents, List<(ulong Block, byte[] Data)> versions) =>
        extents.Count <= MaxExtents && (long)versions.Count * _v.BlockSize <= MaxPinnedBytes;

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

        /// <summary>As ExtentTree.Editor.Map: the extent holding <paramref name="lblk"/>, or the hole up to the next one.</summary>
        public BlockRun Map(uint lblk, uint maxBlocks) => ExtentTree.MapSorted(Extents, lblk, maxBlocks);
    }
}
