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
            byte[] leafBlock = ReadLeaf(leaf) ?? throw new Ext4CorruptionException($"htree leaf block {leaf} is a hole");
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
            byte[]? b = ReadLeaf(leaf);
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
        VerifyDx(frames[0]);
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

        var f = MakeFrame(lblk, b, D.DxNodeEntries, NodeLimit);
        VerifyDx(f);
        return f;
    }

    /// <summary>
    /// ext4_dx_csum_verify under metadata_csum: crc32c(inode seed, block[0 .. entries + count*8],
    /// dt_reserved as stored, zero checksum) against dt_checksum. Count and limit are checked
    /// first (MakeFrame), so the tail lies inside the block.
    /// </summary>
    private void VerifyDx(in Frame f)
    {
        if (!_p.MetadataCsum)
        {
            return;
        }

        int tail = f.Entries + (f.Limit * D.DxEntrySize);
        if (tail + D.DxTailSize > f.Block.Length)
        {
            throw new Ext4ChecksumException($"htree block {f.Lblk}: no space for the dx checksum");
        }

        uint c = Crc32c.Append(_p.InodeSeed, f.Block.AsSpan(0, f.Entries + (f.Count * D.DxEntrySize)));
        c = Crc32c.Append(c, f.Block.AsSpan(tail + D.dt_reserved, 4));
        c = Crc32c.AppendZeros(c, 4);
        if (c != U32(f.Block, tail + D.dt_checksum))
        {
            throw new Ext4ChecksumException($"htree block {f.Lblk}: dx checksum mismatch");
        }
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
}
