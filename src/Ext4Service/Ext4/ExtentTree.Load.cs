using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.ExtentLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

internal static partial class ExtentTree
{
    /// <summary>
    /// Reads the whole tree under <paramref name="root"/> (an inode's i_block) for editing:
    /// every leaf extent in logical order, and the tree blocks, leaves and index blocks apart,
    /// in left-to-right order (so a rewrite can reuse them in place). Validates what
    /// <see cref="Map"/> validates on its path, for every node: header, depth, checksums,
    /// index keys strictly increasing and bounding their subtrees, extents sorted, non-empty,
    /// not overlapping and outside the system zone. Each node is visited once and depth
    /// strictly decreases, so the walk ends.
    /// </summary>
    public static List<Extent> LoadAll(Ext4Volume v, uint ino, uint inodeSeed, ReadOnlySpan<byte> root,
        List<ulong> leafBlocks, List<ulong> indexBlocks) =>
        LoadAll(v, ino, inodeSeed, root, leafBlocks, indexBlocks, null);

    /// <summary>
    /// As <see cref="LoadAll(Ext4Volume, uint, uint, ReadOnlySpan{byte}, List{ulong}, List{ulong})"/>;
    /// also appends to <paramref name="versions"/> every tree block with the cache array it was
    /// parsed from, in visit order (what <see cref="ExtentCache"/> checks the tree against).
    /// </summary>
    public static List<Extent> LoadAll(Ext4Volume v, uint ino, uint inodeSeed, ReadOnlySpan<byte> root,
        List<ulong> leafBlocks, List<ulong> indexBlocks, List<(ulong Block, byte[] Data)>? versions)
    {
        var extents = new List<Extent>();
        int depth = CheckNode(ino, root, 0, RootCapacity, -1);
        LoadNode(v, ino, inodeSeed, root, 0, depth, 0, 1UL << 32, extents, leafBlocks, indexBlocks, versions);
        return extents;
    }

    private static void LoadNode(Ext4Volume v, uint ino, uint seed, ReadOnlySpan<byte> node, ulong nodeBlock, int depth,
        ulong low, ulong high, List<Extent> extents, List<ulong> leafBlocks, List<ulong> indexBlocks,
        List<(ulong Block, byte[] Data)>? versions)
    {
        int entries = U16(node, X.eh_entries);
        if (depth == 0)
        {
            for (int i = 0; i < entries; i++)
            {
                var e = ReadExtent(node, i);
                ulong prevEnd = extents.Count > 0 ? extents[^1].End : 0;
                if (e.Length == 0 || e.Logical < low || e.End > high || (extents.Count > 0 && e.Logical < prevEnd))
                {
                    throw Corrupt(ino, nodeBlock, $"extent {e.Logical}+{e.Length} out of order or outside its index range");
                }

                CheckMapped(v, ino, e.Physical, e.Length, $"inode {ino} extent at logical block {e.Logical}");
                extents.Add(e);
            }

            return;
        }

        for (int i = 0; i < entries; i++)
        {
            var (key, child) = ReadIndex(node, i);
            ulong next = i + 1 < entries ? ReadIndex(node, i + 1).Logical : high;
            if ((i > 0 && key < low) || key >= next || next > high)
            {
                throw Corrupt(ino, nodeBlock, $"index key {key} out of order");
            }

            CheckMapped(v, ino, child, 1, $"inode {ino} extent tree block");
            byte[] block = v.Cache.Get(child);
            CheckNode(ino, block, child, BlockCapacity(v.BlockSize), depth - 1);
            if (v.HasMetadataCsum)
            {
                int tail = X.EntrySize + (U16(block, X.eh_max) * X.EntrySize);
                uint stored = U32(block, tail);
                uint computed = Crc32c.Append(seed, block.AsSpan(0, tail));
                if (stored != computed)
                {
                    throw new Ext4ChecksumException(
                        $"inode {ino}: extent block {child} checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
                }
            }

            (depth - 1 == 0 ? leafBlocks : indexBlocks).Add(child);
            versions?.Add((child, block));
            LoadNode(v, ino, seed, block, child, depth - 1, i == 0 ? low : key, next, extents, leafBlocks, indexBlocks, versions);
        }
    }

    /// <summary>Header checks (as <see cref="CheckHeader"/>); returns eh_depth.</summary>
    private static int CheckNode(uint ino, ReadOnlySpan<byte> node, ulong nodeBlock, int capacity, int expectedDepth)
    {
        ushort magic = U16(node, X.eh_magic);
        int entries = U16(node, X.eh_entries);
        int max = U16(node, X.eh_max);
        int depth = U16(node, X.eh_depth);
        if (magic != X.EXT4_EXT_MAGIC)
        {
            throw Corrupt(ino, nodeBlock, $"bad extent header magic 0x{magic:x4}");
        }

        if (max == 0 || max > capacity || entries > max)
        {
            throw Corrupt(ino, nodeBlock, $"bad extent header (entries {entries}, max {max}, capacity {capacity})");
        }

        if (depth > X.MaxDepth || (expectedDepth >= 0 && depth != expectedDepth) || (depth > 0 && entries == 0))
        {
            throw Corrupt(ino, nodeBlock, $"bad extent depth {depth} or empty index");
        }

        return depth;
    }

    /// <summary>ext4_inode_block_valid for blocks an inode maps (data or tree blocks).</summary>
    internal static void CheckMapped(Ext4Volume v, uint ino, ulong block, ulong count, string what)
    {
        v.CheckBlockRange(block, count, what);
        if (!v.Zone.IsValid(block, count, ino))
        {
            throw new Ext4CorruptionException($"{what}: blocks {block}-{block + count - 1} overlap file-system metadata (system zone)");
        }
    }

    private static Ext4CorruptionException Corrupt(uint ino, ulong block, string what) =>
        new(block == 0
            ? $"inode {ino}: {what} (extent root in i_block)"
            : $"inode {ino}: {what} (extent block {block})");
}
