using System.Buffers.Binary;
using D = Safemount.Ext4.Format.DirEntryLayout;

namespace Safemount.Ext4;

/// <summary>
/// The structural steps of htree insertion (kernel: namei.c make_indexed_dir, do_split, the
/// index split and level growth of ext4_dx_add_entry). Each allocates its new block first and
/// only then points anything at it, so a failed allocation changes nothing.
/// </summary>
internal sealed partial class DirectoryEditor
{
    /// <summary>
    /// make_indexed_dir: the records after ".." of the full block 0 move to a new block 1 (the
    /// last one stretched to the end), and block 0 becomes the dx_root with one entry → block 1.
    /// False (nothing changed) when no block could be allocated.
    /// </summary>
    private bool MakeIndexed(byte[] block0)
    {
        var dot = DirectoryBlock.Walk(block0, 0, _leafEnd);
        if (dot.RecLen != D.RecLen(1) || !block0.AsSpan(D.name, dot.NameLen).SequenceEqual("."u8))
        {
            throw new Ext4CorruptionException("directory block 0 does not start with a 12-byte \".\"");
        }

        var dotdot = DirectoryBlock.Walk(block0, dot.RecLen, _leafEnd);
        if (!block0.AsSpan(dot.RecLen + D.name, dotdot.NameLen).SequenceEqual(".."u8))
        {
            throw new Ext4CorruptionException("directory block 0 has no \"..\" second");
        }

        int first = dot.RecLen + dotdot.RecLen;
        if (first >= _leafEnd)
        {
            throw new Ext4CorruptionException("directory block 0 holds only \".\" and \"..\" yet is full");
        }

        // Walk the moved records once more to find the last one (checked), before anything changes.
        int last = first;
        for (int o = first; o < _leafEnd;)
        {
            last = o;
            o += DirectoryBlock.Walk(block0, o, _leafEnd).RecLen;
        }

        bool csum = _p.MetadataCsum;
        uint seed = _p.InodeSeed;
        int len = _leafEnd - first;
        int leafEnd = _leafEnd;
        int bs = _bs;
        if (!_blocks.TryAppend(
            b =>
            {
                block0.AsSpan(first, len).CopyTo(b);
                int lastAt = last - first;
                DirectoryBlock.SetRecLen(b, lastAt, leafEnd - lastAt, bs);
                if (csum)
                {
                    DirectoryBlock.InitTail(b);
                    DirectoryBlock.SetChecksum(b, seed);
                }
            },
            out uint newBlock))
        {
            return false;
        }

        if (newBlock != 1)
        {
            throw new InvalidOperationException($"a one-block directory grew block {newBlock}, not 1");
        }

        byte hashVersion = _p.DefHashVersion;
        int rootLimit = RootLimit;
        int dd = dot.RecLen;
        ModifyDx(0, RootEntries, b =>
        {
            DirectoryBlock.SetRecLen(b, dd, bs - dd, bs);
            b[(dd + D.RecLen(2))..].Clear();
            b[D.info_length] = D.DxRootInfoSize;
            b[D.info_hash_version] = hashVersion;
            BinaryPrimitives.WriteUInt16LittleEndian(b[(RootEntries + D.dx_limit)..], (ushort)rootLimit);
            BinaryPrimitives.WriteUInt16LittleEndian(b[(RootEntries + D.dx_count)..], 1);
            BinaryPrimitives.WriteUInt32LittleEndian(b[(RootEntries + D.dx_block)..], 1);
        });
        _blocks.SetIndexed();
        _indexed = true;
        return true;
    }

    /// <summary>
    /// do_split: the leaf's live records sorted by hash; from the top, records move to a new
    /// block while less than half the block is moved (by EXT4_DIR_REC_LEN), or half by count
    /// when everything is small. The old block keeps the rest packed in their order. The new
    /// block's first hash (| 1 when equal to the last kept hash: a collision continues across
    /// the boundary) enters the index after the leaf's entry.
    /// </summary>
    private bool SplitLeaf(in Frame parent, uint leaf, byte[] leafBlock)
    {
        byte version = HashVersion();
        var records = new List<(uint Hash, int Offset, int NameLen)>();
        foreach (var (offset, _, nameLen) in DirectoryBlock.Live(leafBlock, 0, _leafEnd))
        {
            records.Add((DirHash.Hash(leafBlock.AsSpan(offset + D.name, nameLen), version, _p.HashSeed), offset, nameLen));
        }

        int count = records.Count;
        if (count < 2)
        {
            throw new Ext4CorruptionException($"htree leaf {leaf} is full with {count} records");
        }

        var sorted = records.OrderBy(r => r.Hash).ToList();
        int size = 0, move = 0, i;
        for (i = count - 1; i >= 0; i--)
        {
            int recLen = D.RecLen(sorted[i].NameLen);
            if (size + (recLen / 2) > _bs / 2)
            {
                break;
            }

            size += recLen;
            move++;
        }

        int split = i > 0 ? count - move : count / 2;
        uint hash2 = sorted[split].Hash;
        uint continued = hash2 == sorted[split - 1].Hash ? 1u : 0u;
        var moved = sorted.GetRange(split, count - split);
        var movedOffsets = moved.Select(r => r.Offset).ToHashSet();
        var kept = records.Where(r => !movedOffsets.Contains(r.Offset)).ToList();

        bool csum = _p.MetadataCsum;
        uint seed = _p.InodeSeed;
        if (!_blocks.TryAppend(b => FillLeaf(b, leafBlock, moved, csum, seed), out uint newBlock))
        {
            return false;
        }

        ModifyLeaf(leaf, b => FillLeaf(b, leafBlock, kept, csum, seed));
        InsertIndexEntry(parent, hash2 | continued, newBlock);
        return true;
    }

    /// <summary>Rewrites <paramref name="b"/> as a leaf holding <paramref name="records"/> of <paramref name="source"/>, packed in list order.</summary>
    private static void FillLeaf(Span<byte> b, byte[] source, List<(uint Hash, int Offset, int NameLen)> records, bool csum, uint seed)
    {
        int end = DirectoryBlock.EntriesEnd(b.Length, csum);
        b.Clear();
        int o = 0, lastAt = 0;
        foreach (var r in records)
        {
            int len = D.RecLen(r.NameLen);
            source.AsSpan(r.Offset, D.HeaderSize + r.NameLen).CopyTo(b[o..]);
            DirectoryBlock.SetRecLen(b, o, len, b.Length);
            lastAt = o;
            o += len;
        }

        if (records.Count == 0)
        {
            DirectoryBlock.SetRecLen(b, 0, end, b.Length);
        }
        else
        {
            DirectoryBlock.SetRecLen(b, lastAt, end - lastAt, b.Length);
        }

        if (csum)
        {
            DirectoryBlock.InitTail(b);
            DirectoryBlock.SetChecksum(b, seed);
        }
    }

    /// <summary>
    /// The index-node split of ext4_dx_add_entry: the upper half (by count) of the full node
    /// <paramref name="node"/> moves to a new node; its first hash and block enter
    /// <paramref name="parent"/> (which has room) after the node's entry.
    /// </summary>
    private bool SplitIndex(in Frame parent, in Frame node)
    {
        int icount = node.Count;
        int icount1 = icount / 2, icount2 = icount - icount1;
        uint hash2 = EntryHash(node, icount1);
        byte[] src = node.Block;
        int srcEntries = node.Entries;
        int nodeLimit = NodeLimit;
        int bs = _bs;
        bool csum = _p.MetadataCsum;
        uint seed = _p.InodeSeed;
        if (!_blocks.TryAppend(
            b =>
            {
                InitNode(b, bs);
                src.AsSpan(srcEntries + (icount1 * D.DxEntrySize), icount2 * D.DxEntrySize).CopyTo(b[D.DxNodeEntries..]);
                BinaryPrimitives.WriteUInt16LittleEndian(b[(D.DxNodeEntries + D.dx_limit)..], (ushort)nodeLimit);
                BinaryPrimitives.WriteUInt16LittleEndian(b[(D.DxNodeEntries + D.dx_count)..], (ushort)icount2);
                if (csum)
                {
                    SetDxChecksum(b, D.DxNodeEntries, seed);
                }
            },
            out uint newBlock))
        {
            return false;
        }

        ModifyDx(node.Lblk, srcEntries, b =>
        {
            b.Slice(srcEntries + (icount1 * D.DxEntrySize), icount2 * D.DxEntrySize).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(b[(srcEntries + D.dx_count)..], (ushort)icount1);
        });
        InsertIndexEntry(parent, hash2, newBlock);
        return true;
    }

    /// <summary>
    /// Adds an index level: the full root's entries move to a new node, the root keeps one entry
    /// pointing at it, indirect_levels + 1. False when the tree already has the levels allowed
    /// (2, 3 with large_dir) or no block could be allocated.
    /// </summary>
    private bool GrowRoot(in Frame root, int levels)
    {
        if (levels >= _p.MaxLevels)
        {
            return false;
        }

        int icount = root.Count;
        byte[] src = root.Block;
        int nodeLimit = NodeLimit;
        int bs = _bs;
        bool csum = _p.MetadataCsum;
        uint seed = _p.InodeSeed;
        if (!_blocks.TryAppend(
            b =>
            {
                InitNode(b, bs);
                src.AsSpan(RootEntries, icount * D.DxEntrySize).CopyTo(b[D.DxNodeEntries..]);
                BinaryPrimitives.WriteUInt16LittleEndian(b[(D.DxNodeEntries + D.dx_limit)..], (ushort)nodeLimit);
                BinaryPrimitives.WriteUInt16LittleEndian(b[(D.DxNodeEntries + D.dx_count)..], (ushort)icount);
                if (csum)
                {
                    SetDxChecksum(b, D.DxNodeEntries, seed);
                }
            },
            out uint newBlock))
        {
            return false;
        }

        ModifyDx(0, RootEntries, b =>
        {
            b.Slice(RootEntries + D.DxEntrySize, (icount - 1) * D.DxEntrySize).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(b[(RootEntries + D.dx_count)..], 1);
            BinaryPrimitives.WriteUInt32LittleEndian(b[(RootEntries + D.dx_block)..], newBlock);
            b[D.info_indirect_levels]++;
        });
        return true;
    }

    /// <summary>A dx_node's fake dirent: inode 0, rec_len = block size, name_len 0.</summary>
    private static void InitNode(Span<byte> b, int bs)
    {
        b.Clear();
        DirectoryBlock.SetRecLen(b, 0, bs, bs);
    }
}
