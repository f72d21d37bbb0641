using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.ExtentLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Maps logical blocks through an extent tree (kernel: ext4_find_extent, ext4_ext_map_blocks).
/// The root lives in i_block (at most 4 entries); each level is validated (magic, entries &lt;=
/// max &lt;= capacity, depth one less than its parent, keys strictly increasing, extents not
/// overlapping, physical ranges inside the file system) and tree blocks are checksum-verified.
/// The walk is bounded by <see cref="ExtentLayout.MaxDepth"/>.
/// </summary>
internal static partial class ExtentTree
{
    public static BlockRun Map(Ext4Volume v, Ext4Inode inode, uint lblk, uint maxBlocks)
    {
        // A regular file's tree, once parsed and still current, answers without a walk (ExtentCache).
        return inode.IsRegular && v.Extents.TryMap(inode, lblk, maxBlocks, out var cached)
            ? cached
            : Walk(v, inode, lblk, maxBlocks);
    }

    /// <summary>
    /// The walk from the root to the leaf holding <paramref name="lblk"/>, validating and
    /// checksum-verifying each node on the way (what <see cref="Map"/> does without a cached tree).
    /// </summary>
    internal static BlockRun Walk(Ext4Volume v, Ext4Inode inode, uint lblk, uint maxBlocks)
    {
        ReadOnlySpan<byte> node = inode.IBlock;
        int depth = -1;
        ulong nodeBlock = 0; // 0 = the root in i_block
        // Exclusive upper bound on logical blocks the current subtree covers (next sibling key).
        ulong limit = 1UL << 32;

        for (int level = 0; level <= X.MaxDepth; level++)
        {
            int capacity = (node.Length - X.EntrySize) / X.EntrySize;
            var (entries, thisDepth) = CheckHeader(inode, node, nodeBlock, capacity, depth);
            depth = thisDepth;
            if (nodeBlock != 0)
            {
                VerifyBlockChecksum(v, inode, node, nodeBlock);
            }

            if (depth == 0)
            {
                return FindInLeaf(v, inode, node, nodeBlock, entries, lblk, maxBlocks, limit);
            }

            // Index node: the last entry whose key <= lblk (the first covers everything below it).
            // The next key bounds the hole that a miss in the chosen subtree reports.
            int chosen = 0;
            uint prevKey = 0;
            for (int i = 0; i < entries; i++)
            {
                uint key = U32(node, X.EntrySize * (i + 1) + X.ei_block);
                if (i > 0 && key <= prevKey)
                {
                    throw Corrupt(inode, nodeBlock, "index keys out of order");
                }

                prevKey = key;
                if (i == 0 || key <= lblk)
                {
                    chosen = i;
                }
                else
                {
                    limit = Math.Min(limit, key);
                    break;
                }
            }

            int at = X.EntrySize * (chosen + 1);
            ulong child = U32(node, at + X.ei_leaf_lo) | ((ulong)U16(node, at + X.ei_leaf_hi) << 32);
            node = v.ReadInodeMetadataBlock(inode, child, $"inode {inode.Number} extent index");
            nodeBlock = child;
            depth -= 1;
        }

        throw Corrupt(inode, nodeBlock, "extent tree deeper than the maximum");
    }

    /// <summary>Validates an extent header; returns (eh_entries, eh_depth).</summary>
    private static (int Entries, int Depth) CheckHeader(Ext4Inode inode, ReadOnlySpan<byte> node, ulong nodeBlock, int capacity, int expectedDepth)
    {
        ushort magic = U16(node, X.eh_magic);
        int entries = U16(node, X.eh_entries);
        int max = U16(node, X.eh_max);
        int depth = U16(node, X.eh_depth);
        if (magic != X.EXT4_EXT_MAGIC)
        {
            throw Corrupt(inode, nodeBlock, $"bad extent header magic 0x{magic:x4}");
        }

        if (max == 0 || max > capacity || entries > max)
        {
            throw Corrupt(inode, nodeBlock, $"bad extent header (entries {entries}, max {max}, capacity {capacity})");
        }

        if (depth > X.MaxDepth || (expectedDepth >= 0 && depth != expectedDepth))
        {
            throw Corrupt(inode, nodeBlock, $"bad extent depth {depth}");
        }

        if (depth > 0 && entries == 0)
        {
            throw Corrupt(inode, nodeBlock, "empty extent index node");
        }

        return (entries, depth);
    }

    private static BlockRun FindInLeaf(Ext4Volume v, Ext4Inode inode, ReadOnlySpan<byte> node, ulong nodeBlock,
        int entries, uint lblk, uint maxBlocks, ulong limit)
    {
        ulong prevEnd = 0; // exclusive end of the previous extent
        for (int i = 0; i < entries; i++)
        {
            int at = X.EntrySize * (i + 1);
            uint start = U32(node, at + X.ee_block);
            uint rawLen = U16(node, at + X.ee_len);
            bool unwritten = rawLen > X.InitMaxLen;
            uint len = unwritten ? rawLen - X.InitMaxLen : rawLen;
            if (len == 0)
            {
                throw Corrupt(inode, nodeBlock, $"zero-length extent at logical block {start}");
            }

            if (i > 0 && start < prevEnd)
            {
                throw Corrupt(inode, nodeBlock, $"overlapping or unordered extent at logical block {start}");
            }

            ulong end = (ulong)start + len;
            prevEnd = end;
            ulong phys = U32(node, at + X.ee_start_lo) | ((ulong)U16(node, at + X.ee_start_hi) << 32);
            v.CheckInodeBlocks(inode, phys, len, $"inode {inode.Number} extent at logical block {start}");

            if (lblk < start)
            {
                return new BlockRun(BlockRunKind.Hole, 0, (uint)Math.Min(start - lblk, maxBlocks));
            }

            if (lblk < end)
            {
                uint n = (uint)Math.Min(end - lblk, maxBlocks);
                return new BlockRun(unwritten ? BlockRunKind.Unwritten : BlockRunKind.Mapped, phys + (lblk - start), n);
            }
        }

        ulong holeEnd = Math.Max(limit, (ulong)lblk + 1);
        return new BlockRun(BlockRunKind.Hole, 0, (uint)Math.Min(holeEnd - lblk, maxBlocks));
    }

    /// <summary>ext4_extent_block_csum: crc32c(inode seed, block[0 .. 12 + eh_max*12]) stored right after.</summary>
    private static void VerifyBlockChecksum(Ext4Volume v, Ext4Inode inode, ReadOnlySpan<byte> block, ulong blockNr)
    {
        if (!v.HasMetadataCsum)
        {
            return;
        }

        int max = U16(block, X.eh_max);
        int tail = X.EntrySize + (max * X.EntrySize);
        if (tail + X.TailSize > block.Length)
        {
            throw Corrupt(inode, blockNr, "no room for the extent block checksum");
        }

        uint computed = Crc32c.Append(inode.ChecksumSeed, block[..tail]);
        uint stored = U32(block, tail);
        if (computed != stored)
        {
            throw new Ext4ChecksumException(
                $"inode {inode.Number}: extent block {blockNr} checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
        }
    }

    private static Ext4CorruptionException Corrupt(Ext4Inode inode, ulong block, string what) =>
        new(block == 0
            ? $"inode {inode.Number}: {what} (extent root in i_block)"
            : $"inode {inode.Number}: {what} (extent block {block})");
}
