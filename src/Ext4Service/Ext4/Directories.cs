using Safemount.Ext4.Format;
using D = Safemount.Ext4.Format.DirEntryLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Directory reading (kernel: fs/ext4/dir.c, namei.c). Leaf blocks are lists of
/// ext4_dir_entry_2 records checked like ext4_check_dir_entry, with a checksum tail under
/// metadata_csum. Indexed directories (dir_index feature and EXT4_INDEX_FL) are searched
/// through the htree (Directories.Htree.cs).
/// </summary>
internal sealed partial class Directories
{
    private readonly Ext4Volume _v;

    public Directories(Ext4Volume volume) => _v = volume;

    private bool HasFiletype => _v.Sb.HasIncompat(Ext4Features.INCOMPAT_FILETYPE);

    public IReadOnlyList<Ext4DirEntry> ReadAll(Ext4Inode dir)
    {
        RequireDirectory(dir);
        if (dir.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL))
        {
            return ReadAllInline(dir);
        }

        var result = new List<Ext4DirEntry>();
        bool indexed = IsIndexed(dir);
        foreach (var (lblk, block) in Blocks(dir))
        {
            if (indexed && lblk == 0)
            {
                VerifyDxRoot(dir, block);
                ParseEntries(dir, lblk, block, 0, block.Length, result);
                continue;
            }

            if (indexed && IsDxNode(block))
            {
                VerifyDxChecksum(dir, lblk, block, D.DxNodeEntries);
                continue;
            }

            int end = VerifyLeaf(dir, lblk, block);
            ParseEntries(dir, lblk, block, 0, end, result);
        }

        return result;
    }

    /// <summary>
    /// The directory's allocated blocks in logical order. Holes (and unwritten extents) are
    /// skipped a whole run at a time, so a huge alleged i_size over holes costs nothing. A
    /// physical block may appear once: a map (indirect blocks or extents) that names one valid
    /// block many times would otherwise multiply its entries without bound (65,536 copies
    /// from one double-indirect block of 1 KiB), which no valid directory does.
    /// </summary>
    private IEnumerable<(uint Lblk, byte[] Block)> Blocks(Ext4Inode dir)
    {
        uint blocks = BlockCount(dir);
        uint lblk = 0;
        // A one-block directory (the common case) cannot repeat a block: no set for it.
        HashSet<ulong>? seen = blocks > 1 ? new HashSet<ulong>() : null;
        while (lblk < blocks)
        {
            var run = _v.FileData.Map(dir, lblk, blocks - lblk);
            if (run.Kind == BlockRunKind.Mapped)
            {
                for (uint i = 0; i < run.Length; i++)
                {
                    if (seen is not null && !seen.Add(run.Physical + i))
                    {
                        throw new Ext4CorruptionException(
                            $"directory inode {dir.Number}: block {run.Physical + i} is mapped twice (again at logical block {lblk + i})");
                    }

                    // A miss reads ahead the rest of this physically contiguous run (as ext4_readdir reads ahead, fs/ext4/dir.c; ext4_find_entry batches with ext4_bread_batch, fs/ext4/namei.c).
                    int readahead = (int)Math.Min(run.Length - i, (uint)Storage.BlockCache.MaxReadahead);
                    yield return (lblk + i, _v.ReadMetadataBlock(run.Physical + i, readahead, $"directory inode {dir.Number} block {lblk + i}"));
                }
            }

            lblk += run.Length;
        }
    }

    /// <summary>
    /// The inode number <paramref name="name"/> names, 0 when absent. As ext4_lookup does
    /// (ext4_valid_inum), a found number must be the root or lie in [s_first_ino,
    /// s_inodes_count]: a name for a reserved inode (journal, resize, bad blocks...) is corruption.
    /// </summary>
    public uint Lookup(Ext4Inode dir, ReadOnlySpan<byte> name)
    {
        uint ino = Find(dir, name);
        uint firstIno = _v.Sb.s_rev_level == 0 ? GoodOldFirstIno : _v.Sb.s_first_ino;
        if (ino != 0 && ino != InodeLayout.EXT4_ROOT_INO && (ino < firstIno || ino > _v.Sb.s_inodes_count))
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number}: entry names reserved or invalid inode {ino}");
        }

        return ino;
    }

    /// <summary>EXT4_GOOD_OLD_FIRST_INO: the first non-reserved inode of revision 0 file systems.</summary>
    internal const uint GoodOldFirstIno = 11;

    private uint Find(Ext4Inode dir, ReadOnlySpan<byte> name)
    {
        RequireDirectory(dir);
        if (name.IsEmpty || name.Length > D.EXT4_NAME_LEN)
        {
            return 0;
        }

        bool isDot = name.SequenceEqual("."u8) || name.SequenceEqual(".."u8);
        if (dir.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL))
        {
            return LookupInline(dir, name);
        }

        if (IsIndexed(dir))
        {
            if (isDot)
            {
                // "." and ".." live only in the dx_root block, never in a leaf.
                byte[]? root = _v.FileData.ReadMetadataFileBlock(dir, 0);
                return root == null ? 0 : FindInBlock(dir, 0, root, 0, root.Length, name);
            }

            return HtreeLookup(dir, name);
        }

        foreach (var (lblk, block) in Blocks(dir))
        {
            int end = VerifyLeaf(dir, lblk, block);
            uint ino = FindInBlock(dir, lblk, block, 0, end, name);
            if (ino != 0 || (isDot && lblk == 0))
            {
                return ino;
            }
        }

        return 0;
    }

    private bool IsIndexed(Ext4Inode dir) =>
        dir.HasFlag(InodeLayout.EXT4_INDEX_FL) && _v.Sb.HasCompat(Ext4Features.COMPAT_DIR_INDEX);

    private static void RequireDirectory(Ext4Inode dir)
    {
        if (!dir.IsDirectory)
        {
            throw new ArgumentException($"inode {dir.Number} is not a directory", nameof(dir));
        }
    }

    /// <summary>Directory size in blocks (i_size rounded up), bounded by 2^32 logical blocks.</summary>
    private uint BlockCount(Ext4Inode dir)
    {
        ulong blocks = ((ulong)dir.Size + _v.BlockSize - 1) >> _v.BlockSizeBits;
        if (blocks > uint.MaxValue)
        {
            throw new Ext4CorruptionException($"directory inode {dir.Number}: size {dir.Size} is too large");
        }

        return (uint)blocks;
    }

    /// <summary>
    /// Checks the leaf checksum tail (metadata_csum) and returns where the entries end: the
    /// block size, or the block size minus the 12-byte tail.
    /// </summary>
    private int VerifyLeaf(Ext4Inode dir, uint lblk, byte[] block)
    {
        if (!_v.HasMetadataCsum)
        {
            return block.Length;
        }

        int t = block.Length - D.TailSize;
        ReadOnlySpan<byte> tail = block.AsSpan(t);
        if (U32(tail, D.det_reserved_zero1) != 0 || U16(tail, D.det_rec_len) != D.TailSize
            || tail[D.det_reserved_zero2] != 0 || tail[D.det_reserved_ft] != D.EXT4_FT_DIR_CSUM)
        {
            throw new Ext4ChecksumException(
                $"directory inode {dir.Number} block {lblk}: no checksum tail in a leaf block");
        }

        uint computed = Crc32c.Append(dir.ChecksumSeed, block.AsSpan(0, t));
        uint stored = U32(tail, D.det_checksum);
        if (computed != stored)
        {
            throw new Ext4ChecksumException(
                $"directory inode {dir.Number} block {lblk}: checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
        }

        return t;
    }

    /// <summary>rec_len as stored, decoded for 64 KiB blocks (ext4_rec_len_from_disk).</summary>
    private int DecodeRecLen(ushort raw)
    {
        if (_v.BlockSize < 65536)
        {
            return raw;
        }

        if (raw == 65535 || raw == 0)
        {
            return (int)_v.BlockSize;
        }

        return (raw & 65532) | ((raw & 3) << 16);
    }

    /// <summary>
    /// Walks the records of one block in [0, end), checked as ext4_check_dir_entry does:
    /// rec_len &gt;= 12, a multiple of 4, room for the name, inside the block; inode &lt;=
    /// s_inodes_count; live entries have a name. Appends each live entry to <paramref name="into"/>.
    /// </summary>
    private void ParseEntries(Ext4Inode dir, uint lblk, byte[] block, int start, int end, List<Ext4DirEntry> into)
    {
        int offset = start;
        while (offset < end)
        {
            var (ino, recLen, nameLen, ft) = CheckEntry(dir, lblk, block, offset, end);
            if (ino != 0)
            {
                into.Add(new Ext4DirEntry(ino, ft, block.AsSpan(offset + D.name, nameLen).ToArray()));
            }

            offset += recLen;
        }
    }

    private uint FindInBlock(Ext4Inode dir, uint lblk, byte[] block, int start, int end, ReadOnlySpan<byte> name)
    {
        int offset = start;
        while (offset < end)
        {
            var (ino, recLen, nameLen, _) = CheckEntry(dir, lblk, block, offset, end);
            if (ino != 0 && nameLen == name.Length && block.AsSpan(offset + D.name, nameLen).SequenceEqual(name))
            {
                return ino;
            }

            offset += recLen;
        }

        return 0;
    }

    private (uint Inode, int RecLen, int NameLen, byte FileType) CheckEntry(Ext4Inode dir, uint lblk, byte[] block, int offset, int end)
    {
        if (end - offset < D.MinRecLen)
        {
            throw BadEntry(dir, lblk, offset, "directory entry overrun");
        }

        uint ino = U32(block, offset + D.inode);
        int recLen = DecodeRecLen(U16(block, offset + D.rec_len));
        int nameLen = block[offset + D.name_len];
        byte ft = block[offset + D.file_type];
        if (recLen < D.MinRecLen)
        {
            throw BadEntry(dir, lblk, offset, $"rec_len {recLen} is smaller than minimal");
        }

        if ((recLen & 3) != 0)
        {
            throw BadEntry(dir, lblk, offset, $"rec_len {recLen} is not a multiple of 4");
        }

        if (recLen < D.RecLen(nameLen))
        {
            throw BadEntry(dir, lblk, offset, $"rec_len {recLen} is too small for name_len {nameLen}");
        }

        if (recLen > end - offset)
        {
            throw BadEntry(dir, lblk, offset, $"directory entry overrun (rec_len {recLen})");
        }

        if (ino > _v.Sb.s_inodes_count)
        {
            throw BadEntry(dir, lblk, offset, $"inode {ino} out of bounds");
        }

        if (ino != 0 && nameLen == 0)
        {
            throw BadEntry(dir, lblk, offset, "live entry with an empty name");
        }

        byte type = HasFiletype && ft < D.EXT4_FT_MAX ? ft : (byte)0;
        return (ino, recLen, nameLen, type);
    }

    private static Ext4CorruptionException BadEntry(Ext4Inode dir, uint lblk, int offset, string what) =>
        new(lblk == InlineRegion
            ? $"directory inode {dir.Number} inline data offset {offset}: bad entry: {what}"
            : $"directory inode {dir.Number} block {lblk} offset {offset}: bad entry: {what}");
}
