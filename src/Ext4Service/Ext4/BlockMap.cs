using Safemount.Ext4.Format;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Maps logical blocks through the ext2/ext3 indirect block map (kernel: ext4_ind_map_blocks):
/// i_block[0..11] point at data, i_block[12] at a single-, [13] a double-, [14] a triple-indirect
/// block; each indirect block holds block_size / 4 little-endian block numbers, 0 = hole.
/// The depth is at most 3 by construction.
/// </summary>
internal static partial class BlockMap
{
    public const int DirectBlocks = 12;          // EXT4_NDIR_BLOCKS
    public const int SingleIndirect = 12;        // EXT4_IND_BLOCK
    public const int DoubleIndirect = 13;        // EXT4_DIND_BLOCK
    public const int TripleIndirect = 14;        // EXT4_TIND_BLOCK

    public static BlockRun Map(Ext4Volume v, Ext4Inode inode, uint lblk, uint maxBlocks)
    {
        ulong perBlock = v.BlockSize / 4;
        ulong rel = lblk;
        if (rel < DirectBlocks)
        {
            return RunIn(v, inode, inode.IBlock[..(DirectBlocks * 4)], (int)rel, DirectBlocks, maxBlocks, "direct block");
        }

        rel -= DirectBlocks;
        int levels;
        int rootSlot;
        if (rel < perBlock)
        {
            levels = 1;
            rootSlot = SingleIndirect;
        }
        else if ((rel -= perBlock) < perBlock * perBlock)
        {
            levels = 2;
            rootSlot = DoubleIndirect;
        }
        else if ((rel -= perBlock * perBlock) < perBlock * perBlock * perBlock)
        {
            levels = 3;
            rootSlot = TripleIndirect;
        }
        else
        {
            // Beyond the largest block-mapped file: nothing can be there.
            return new BlockRun(BlockRunKind.Hole, 0, maxBlocks);
        }

        ulong ptr = U32(inode.IBlock, rootSlot * 4);
        for (int level = levels; level >= 1; level--)
        {
            // Blocks covered by one entry at this level.
            ulong span = 1;
            for (int i = 1; i < level; i++)
            {
                span *= perBlock;
            }

            if (ptr == 0)
            {
                ulong covered = span * perBlock;
                ulong left = covered - (rel % covered);
                return new BlockRun(BlockRunKind.Hole, 0, (uint)Math.Min(left, maxBlocks));
            }

            byte[] block = v.ReadInodeMetadataBlock(inode, ptr, $"inode {inode.Number} indirect block");
            int index = (int)(rel / span);
            rel %= span;
            if (level == 1)
            {
                return RunIn(v, inode, block, index, (int)perBlock, maxBlocks, $"indirect block {ptr}");
            }

            ptr = U32(block, index * 4);
        }

        throw new Ext4CorruptionException($"inode {inode.Number}: indirect map walk did not end");
    }

    /// <summary>
    /// From entry <paramref name="index"/> of a pointer array, the run of physically contiguous
    /// pointers (or of zero pointers) up to the array end and <paramref name="maxBlocks"/>.
    /// </summary>
    private static BlockRun RunIn(Ext4Volume v, Ext4Inode inode, ReadOnlySpan<byte> array, int index, int count,
        uint maxBlocks, string where)
    {
        uint first = U32(array, index * 4);
        uint n = 1;
        while (n < maxBlocks && index + n < count)
        {
            uint next = U32(array, (index + (int)n) * 4);
            if (first == 0 ? next != 0 : next != first + n)
            {
                break;
            }

            n++;
        }

        if (first == 0)
        {
            return new BlockRun(BlockRunKind.Hole, 0, n);
        }

        v.CheckInodeBlocks(inode, first, n, $"inode {inode.Number} {where}");
        return new BlockRun(BlockRunKind.Mapped, first, n);
    }
}
