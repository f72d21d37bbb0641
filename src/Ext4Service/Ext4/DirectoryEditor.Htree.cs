using System.Buffers.Binary;
using Safemount.Ext4.Format;
using D = Safemount.Ext4.Format.DirEntryLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Htree insertion (kernel: namei.c dx_probe, ext4_dx_add_entry, do_split, dx_insert_block,
/// make_indexed_dir, ext4_dx_csum_set). Each pass of <see cref="DxAdd"/> probes the path for the
/// name's hash and makes at most one structural change before probing again, as the kernel
/// restarts after an index split:
/// <list type="number">
/// <item>the leaf has room: insert, done;</item>
/// <item>the leaf's index block has room: split the leaf (sort its records by hash, move the
/// upper half by size to a new block), add (hash2 | continued, new block) after the leaf's entry;</item>
/// <item>else walk up to the highest full index block whose parent has room and split it in
/// half by count, adding (first hash of the upper half, new block) to the parent;</item>
/// <item>every index block on the path, root included, is full: if another level is allowed,
/// move the root's entries into a new node block under a one-entry root (indirect_levels + 1);
/// else ENOSPC.</item>
/// </list>
/// </summary>
internal sealed partial class DirectoryEditor
{
    private const int RootEntries = D.dx_root_info + D.DxRootInfoSize;

    /// <summary>One index block on the probed path.</summary>
    private struct Frame
    {
        public uint Lblk;
        public byte[] Block;
        public int Entries;   // offset of dx_countlimit / dx_entry[0]
        public int Count;
        public int Limit;
        public int At;        // entry followed
    }

    private int RootLimit => (_bs - RootEntries - (_p.MetadataCsum ? D.DxTailSize : 0)) / D.DxEntrySize;

    private int NodeLimit => (_bs - D.DxNodeEntries - (_p.MetadataCsum ? D.DxTailSize : 0)) / D.DxEntrySize;

    private DirEditResult DxAdd(ReadOnlySpan<byte> name, uint ino, byte fileType)
    {
        // Each pass either inserts or adds one block; a directory has at most 2^32 blocks.
        for (long pass = 0; pass <= (long)_blocks.Count + 4; pass++)
        {
            var (frames, _) = Probe(name);
            int levels = frames.Length - 1;
            ref Frame bottom = ref frames[levels];
            uint leaf = ChildOf(bottom);
            byte[] leafBlock = _blocks.Read(leaf) ?? throw new Ext4CorruptionException($"htree leaf block {leaf} is a hole");
            if (TryAddToLeaf(leaf, leafBlock, name, ino, fileType))
            {
                return DirEditResult.Ok;
            }

            if (bottom.Count < bottom.Limit)
            {
                if (!SplitLeaf(bottom, leaf, leafBlock))
                {
                    return DirEditResult.NoSpace;
                }

                continue;
            }

            int level = levels;
            while (level > 0 && frames[level - 1].Count == frames[level - 1].Limit)
            {
                level--;
            }

            bool ok = level > 0 ? SplitIndex(frames[level - 1], frames[level]) : GrowRoot(frames[0], frames.Length);
            if (!ok)
            {
                return DirEditResult.NoSpace;
            }
        }

        throw new Ext4CorruptionException("htree insertion did not converge");
    }

    private Location? DxLocate(ReadOnlySpan<byte> name)
    {
        var (frames, hash) = Probe(name);
        int levels = frames.Length - 1;
        for (long steps = 0; steps <= _blocks.Count; steps++)
        {
            uint leaf = ChildOf(frames[levels]);
            byte[]? b = _blocks.Read(leaf);
            if (b != null)
            {
                int o = DirectoryBlock.Find(b, 0, _leafEnd, name, out int prev);
                if (o >= 0)
                {
                    return new Location(leaf, o, prev, U32(b, o + D.inode));
                }
            }

            // ext4_htree_next_block: continue while the next leaf's hash, continuation bit cleared, equals ours.
            int level = levels;
            while (frames[level].At + 1 >= frames[level].Count)
            {
                if (level == 0)
                {
                    return null;
                }

                level--;
            }

            frames[level].At++;
            if ((EntryHash(frames[level], frames[level].At) & ~1u) != hash)
            {
                return null;
            }

            for (int l = level + 1; l <= levels; l++)
            {
                frames[l] = ReadNode(ChildOf(frames[l - 1]));
                frames[l].At = 0;
            }
        }

        throw new Ext4CorruptionException("htree walk did not end");
    }

    /// <summary>dx_probe: the path of index blocks from the root to the leaf covering the name's hash.</summary>
    private (Frame[] Frames, uint Hash) Probe(ReadOnlySpan<byte> name)
    {
        byte[] root = _blocks.Read(0) ?? throw new Ext4CorruptionException("htree root block is a hole");
        byte version = root[D.info_hash_version];
        int levels = root[D.info_indirect_levels];
        if (U32(root, D.info_reserved_zero) != 0 || root[D.info_length] != D.DxRootInfoSize
            || version is not (DirHash.DX_HASH_LEGACY or DirHash.DX_HASH_HALF_MD4 or DirHash.DX_HASH_TEA)
            || (root[D.info_unused_flags] & 1) != 0 || levels >= _p.MaxLevels)
        {
            throw new Ext4CorruptionException("bad dx_root");
        }

        if (_p.UnsignedHash)
        {
            version += 3;
        }

        uint hash = DirHash.Hash(name, version, _p.HashSeed);
        var frames = new Frame[levels + 1];
        frames[0] = MakeFrame(0, root, RootEntries, RootLimit);
        frames[0].At = Search(frames[0], hash);
        for (int l = 1; l <= levels; l++)
        {
            frames[l] = ReadNode(ChildOf(frames[l - 1]));
            frames[l].At = Search(frames[l], hash);
        }

        return (frames, hash);
    }

    private byte HashVersion()
    {
        byte[] root = _blocks.Read(0) ?? throw new Ext4CorruptionException("htree root block is a hole");
        byte version = root[D.info_hash_version];
        return _p.UnsignedHash && version <= DirHash.DX_HASH_TEA ? (byte)(version + 3) : version;
    }

    private Frame ReadNode(uint lblk)
    {
        byte[] b = _blocks.Read(lblk) ?? throw new Ext4CorruptionException($"htree node block {lblk} is a hole");
        if (!IsDxNode(b))
        {
            throw new Ext4CorruptionException($"htree block {lblk} is not an index node");
        }

        return MakeFrame(lblk, b, D.DxNodeEntries, NodeLimit);
    }

    private Frame MakeFrame(uint lblk, byte[] b, int entries, int expectedLimit)
    {
        int limit = U16(b, entries + D.dx_limit);
        int count = U16(b, entries + D.dx_count);
        if (limit != expectedLimit || count == 0 || count > limit)
        {
            throw new Ext4CorruptionException($"htree block {lblk}: dx count {count} / limit {limit} (expected limit {expectedLimit})");
        }

        return new Frame { Lblk = lblk, Block = b, Entries = entries, Count = count, Limit = limit };
    }

    private bool IsDxNode(byte[] b) =>
        U32(b, D.inode) == 0 && b[D.name_len] == 0
        && DirectoryBlock.DecodeRecLen(U16(b, D.rec_len), _bs) == _bs;

    private static int Search(in Frame f, uint hash)
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

    private static uint EntryHash(in Frame f, int i) =>
        i == 0 ? 0 : U32(f.Block, f.Entries + (i * D.DxEntrySize) + D.dx_hash);

    private uint ChildOf(in Frame f)
    {
        uint b = U32(f.Block, f.Entries + (f.At * D.DxEntrySize) + D.dx_block) & D.DxBlockMask;
        if (b == 0 || b >= _blocks.Count)
        {
            throw new Ext4CorruptionException($"htree block {f.Lblk} points at block {b} of {_blocks.Count}");
        }

        return b;
    }

    /// <summary>dx_insert_block: (hash, block) becomes entry At + 1 of the index block of <paramref name="f"/>.</summary>
    private void InsertIndexEntry(in Frame f, uint hash, uint block)
    {
        int at = f.At + 1;
        int entries = f.Entries;
        int count = f.Count;
        ModifyDx(f.Lblk, entries, b =>
        {
            int from = entries + (at * D.DxEntrySize);
            int to = entries + (count * D.DxEntrySize);
            b[from..to].CopyTo(b[(from + D.DxEntrySize)..]);
            BinaryPrimitives.WriteUInt32LittleEndian(b[(from + D.dx_hash)..], hash);
            BinaryPrimitives.WriteUInt32LittleEndian(b[(from + D.dx_block)..], block);
            BinaryPrimitives.WriteUInt16LittleEndian(b[(entries + D.dx_count)..], (ushort)(count + 1));
        });
    }

    /// <summary>Edits an index block and refreshes its dx_tail checksum.</summary>
    private void ModifyDx(uint lblk, int entries, DirectoryBlockEdit edit)
    {
        bool csum = _p.MetadataCsum;
        uint seed = _p.InodeSeed;
        _blocks.Modify(lblk, b =>
        {
            edit(b);
            if (csum)
            {
                SetDxChecksum(b, entries, seed);
            }
        });
    }

    /// <summary>
    /// ext4_dx_csum_set: dx_tail after dx_entry[limit]; crc32c(inode seed, block[0 .. entries +
    /// count * 8], dt_reserved, zero checksum).
    /// </summary>
    public static void SetDxChecksum(Span<byte> b, int entries, uint seed)
    {
        int limit = U16(b, entries + D.dx_limit);
        int count = U16(b, entries + D.dx_count);
        int tail = entries + (limit * D.DxEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[(tail + D.dt_reserved)..], 0);
        uint c = Crc32c.Append(seed, b[..(entries + (count * D.DxEntrySize))]);
        c = Crc32c.Append(c, b.Slice(tail + D.dt_reserved, 4));
        c = Crc32c.AppendZeros(c, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(b[(tail + D.dt_checksum)..], c);
    }

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
