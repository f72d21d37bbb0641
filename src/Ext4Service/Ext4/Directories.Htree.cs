using Safemount.Ext4.Format;
using D = Safemount.Ext4.Format.DirEntryLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Hash-indexed directory lookup (kernel: dx_probe, ext4_dx_find_entry, ext4_htree_next_block).
/// Block 0 is the dx_root; indirect_levels (&lt; 2, or &lt; 3 with large_dir) levels of dx_node
/// blocks follow; the leaves are ordinary dirent blocks. Each index holds count sorted
/// (hash, block) pairs; entry 0 has no hash and covers everything below entry 1. A name whose
/// hash collides across a leaf boundary continues in the next leaf when the next index hash,
/// low bit cleared, equals the name's hash.
/// </summary>
internal sealed partial class Directories
{
    /// <summary>One level of the path from the root to a leaf.</summary>
    private struct DxFrame
    {
        public byte[] Block;       // the index block (cached, read-only)
        public int EntriesOffset;  // where dx_countlimit / dx_entry[0] starts
        public int Count;          // valid entries
        public int At;             // chosen entry
    }

    private int MaxHtreeLevels => _v.Sb.HasIncompat(Ext4Features.INCOMPAT_LARGEDIR) ? D.HtreeLevelsLargeDir : D.HtreeLevels;

    private static bool IsDxNode(byte[] block) =>
        U32(block, D.inode) == 0 && block[D.name_len] == 0
        && (U16(block, D.rec_len) == block.Length || (block.Length == 65536 && U16(block, D.rec_len) is 0 or 65535));

    /// <summary>Validates the dx_root of block 0; returns (hash version with the signedness applied, indirect levels, entries offset).</summary>
    private (byte HashVersion, int Levels, int EntriesOffset) VerifyDxRoot(Ext4Inode dir, byte[] block)
    {
        byte version = block[D.info_hash_version];
        int infoLength = block[D.info_length];
        int levels = block[D.info_indirect_levels];
        if (U32(block, D.info_reserved_zero) != 0 || infoLength != D.DxRootInfoSize)
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number}: bad dx_root info");
        }

        if (version is not (DirHash.DX_HASH_LEGACY or DirHash.DX_HASH_HALF_MD4 or DirHash.DX_HASH_TEA))
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number}: unrecognised htree hash version {version}");
        }

        if ((block[D.info_unused_flags] & 1) != 0)
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number}: unimplemented htree hash flags");
        }

        if (levels >= MaxHtreeLevels)
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number}: htree depth {levels} exceeds the maximum");
        }

        if ((_v.Sb.s_flags & SuperblockLayout.EXT2_FLAGS_UNSIGNED_HASH) != 0)
        {
            version += 3; // DX_HASH_*_UNSIGNED
        }

        int entriesOffset = D.dx_root_info + infoLength;
        int expectedLimit = (block.Length - entriesOffset - (_v.HasMetadataCsum ? D.DxTailSize : 0)) / D.DxEntrySize;
        CheckCountLimit(dir, 0, block, entriesOffset, expectedLimit);
        VerifyDxChecksum(dir, 0, block, entriesOffset);
        return (version, levels, entriesOffset);
    }

    private int CheckCountLimit(Ext4Inode dir, uint lblk, byte[] block, int entriesOffset, int expectedLimit)
    {
        int limit = U16(block, entriesOffset + D.dx_limit);
        int count = U16(block, entriesOffset + D.dx_count);
        if (limit != expectedLimit)
        {
            throw new Ext4CorruptionException(
                $"directory inode {dir.Number} block {lblk}: dx limit {limit} != expected {expectedLimit}");
        }

        if (count == 0 || count > limit)
        {
            throw new Ext4CorruptionException(
                $"directory inode {dir.Number} block {lblk}: dx count {count} beyond limit {limit}");
        }

        return count;
    }

    /// <summary>
    /// ext4_dx_csum: crc32c(inode seed, block[0 .. entries + count*8], dt_reserved, 4 zero bytes)
    /// against dx_tail.dt_checksum at entries + limit*8.
    /// </summary>
    private void VerifyDxChecksum(Ext4Inode dir, uint lblk, byte[] block, int entriesOffset)
    {
        if (!_v.HasMetadataCsum)
        {
            return;
        }

        int limit = U16(block, entriesOffset + D.dx_limit);
        int count = U16(block, entriesOffset + D.dx_count);
        int tail = entriesOffset + (limit * D.DxEntrySize);
        if (count > limit || tail + D.DxTailSize > block.Length)
        {
            throw new Ext4ChecksumException($"directory inode {dir.Number} block {lblk}: no space for the dx checksum");
        }

        uint c = Crc32c.Append(dir.ChecksumSeed, block.AsSpan(0, entriesOffset + (count * D.DxEntrySize)));
        c = Crc32c.Append(c, block.AsSpan(tail + D.dt_reserved, 4));
        c = Crc32c.AppendZeros(c, 4);
        uint stored = U32(block, tail + D.dt_checksum);
        if (c != stored)
        {
            throw new Ext4ChecksumException(
                $"directory inode {dir.Number} block {lblk}: dx checksum mismatch (stored 0x{stored:x8}, computed 0x{c:x8})");
        }
    }

    private uint HtreeLookup(Ext4Inode dir, ReadOnlySpan<byte> name)
    {
        uint blocks = BlockCount(dir);
        byte[] root = _v.FileData.ReadMetadataFileBlock(dir, 0)
            ?? throw new Ext4CorruptionException($"directory inode {dir.Number}: htree root block is a hole");
        var (version, levels, rootEntries) = VerifyDxRoot(dir, root);
        uint hash = DirHash.Hash(name, version, _v.Sb.s_hash_seed);

        var frames = new DxFrame[levels + 1];
        frames[0] = new DxFrame { Block = root, EntriesOffset = rootEntries, Count = U16(root, rootEntries + D.dx_count) };
        frames[0].At = Search(frames[0], hash);
        for (int level = 1; level <= levels; level++)
        {
            frames[level] = ReadNode(dir, ChildBlock(dir, frames[level - 1], blocks));
            frames[level].At = Search(frames[level], hash);
        }

        // Each iteration moves to a later leaf, so the loop ends within the directory's block count.
        for (uint steps = 0; steps <= blocks; steps++)
        {
            uint leaf = ChildBlock(dir, frames[levels], blocks);
            byte[]? block = _v.FileData.ReadMetadataFileBlock(dir, leaf);
            if (block != null)
            {
                int end = VerifyLeaf(dir, leaf, block);
                uint ino = FindInBlock(dir, leaf, block, 0, end, name);
                if (ino != 0)
                {
                    return ino;
                }
            }

            if (!NextLeaf(dir, frames, levels, hash, blocks))
            {
                return 0;
            }
        }

        throw new Ext4CorruptionException($"directory inode {dir.Number}: htree walk did not end");
    }

    /// <summary>
    /// Advances the path to the next leaf if its starting hash continues <paramref name="hash"/>
    /// (ext4_htree_next_block). Returns false when the search is over.
    /// </summary>
    private bool NextLeaf(Ext4Inode dir, DxFrame[] frames, int levels, uint hash, uint blocks)
    {
        int level = levels;
        while (frames[level].At + 1 >= frames[level].Count)
        {
            if (level == 0)
            {
                return false;
            }

            level--;
        }

        frames[level].At++;
        uint nextHash = EntryHash(frames[level], frames[level].At);
        if ((nextHash & ~1u) != hash)
        {
            return false;
        }

        for (int l = level + 1; l <= levels; l++)
        {
            frames[l] = ReadNode(dir, ChildBlock(dir, frames[l - 1], blocks));
            frames[l].At = 0;
        }

        return true;
    }

    private DxFrame ReadNode(Ext4Inode dir, uint lblk)
    {
        byte[] block = _v.FileData.ReadMetadataFileBlock(dir, lblk)
            ?? throw new Ext4CorruptionException($"directory inode {dir.Number}: htree node block {lblk} is a hole");
        if (!IsDxNode(block))
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number} block {lblk}: not an htree node");
        }

        int expectedLimit = (block.Length - D.DxNodeEntries - (_v.HasMetadataCsum ? D.DxTailSize : 0)) / D.DxEntrySize;
        int count = CheckCountLimit(dir, lblk, block, D.DxNodeEntries, expectedLimit);
        VerifyDxChecksum(dir, lblk, block, D.DxNodeEntries);
        return new DxFrame { Block = block, EntriesOffset = D.DxNodeEntries, Count = count };
    }

    /// <summary>Index of the last entry whose hash is &lt;= <paramref name="hash"/> (entry 0 when none); hashes must ascend.</summary>
    private static int Search(DxFrame f, uint hash)
    {
        int lo = 1, hi = f.Count - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (EntryHash(f, mid) > hash)
            {
                hi = mid - 1;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo - 1;
    }

    private static uint EntryHash(DxFrame f, int i) =>
        i == 0 ? 0 : U32(f.Block, f.EntriesOffset + (i * D.DxEntrySize) + D.dx_hash);

    private static uint ChildBlock(Ext4Inode dir, DxFrame f, uint blocks)
    {
        uint b = U32(f.Block, f.EntriesOffset + (f.At * D.DxEntrySize) + D.dx_block) & D.DxBlockMask;
        if (b == 0 || b >= blocks)
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number}: htree points at block {b} of {blocks}");
        }

        return b;
    }
}
