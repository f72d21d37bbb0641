using System.Buffers.Binary;
using Safemount.Ext4.Format;
using D = Safemount.Ext4.Format.DirEntryLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Edits one linear directory leaf (a list of ext4_dir_entry_2 records) in place; pure logic
/// over a span, no I/O (kernel: fs/ext4/namei.c ext4_find_dest_de, ext4_insert_dentry,
/// ext4_generic_delete_entry, ext4_init_dirent_tail / ext4_dirblock_csum_set). The same code
/// edits the inline-data regions of an inline directory (no tail there).
/// <para>
/// Invariant kept by every edit: the records tile [0, end) exactly (end = block size, minus
/// the 12-byte tail under metadata_csum), each rec_len &gt;= EXT4_DIR_REC_LEN(name_len), a
/// multiple of 4. Records are walked with the checks of ext4_check_dir_entry, so a corrupt
/// block gives <see cref="Ext4CorruptionException"/>, never an out-of-range access.
/// </para>
/// </summary>
internal static class DirectoryBlock
{
    /// <summary>Where the records end: the block size minus the checksum tail under metadata_csum.</summary>
    public static int EntriesEnd(int blockSize, bool csum) => blockSize - (csum ? D.TailSize : 0);

    /// <summary>
    /// Refuses names a directory entry may not carry: empty, longer than EXT4_NAME_LEN, "." and
    /// "..", or containing '/' or NUL. Returns null when the name is acceptable, else the reason.
    /// </summary>
    public static DirNameProblem? CheckName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return DirNameProblem.Empty;
        }

        if (name.Length > D.EXT4_NAME_LEN)
        {
            return DirNameProblem.TooLong;
        }

        if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
        {
            return DirNameProblem.Dot;
        }

        return name.IndexOfAny((byte)'/', (byte)0) >= 0 ? DirNameProblem.BadByte : null;
    }

    /// <summary>ext4_rec_len_to_disk: 64 KiB blocks store a 65536-byte record as 65535 and the high bits in the low two.</summary>
    public static ushort EncodeRecLen(int len, int blockSize)
    {
        if (blockSize < 65536)
        {
            return (ushort)len;
        }

        if (len == 65536)
        {
            return 65535;
        }

        return (ushort)((len & 65532) | ((len >> 16) & 3));
    }

    /// <summary>ext4_rec_len_from_disk.</summary>
    public static int DecodeRecLen(ushort raw, int blockSize)
    {
        if (blockSize < 65536)
        {
            return raw;
        }

        if (raw is 65535 or 0)
        {
            return blockSize;
        }

        return (raw & 65532) | ((raw & 3) << 16);
    }

    /// <summary>A fresh leaf: one unused record covering [0, end), and the tail when <paramref name="csum"/>.</summary>
    public static void InitEmpty(Span<byte> block, bool csum)
    {
        block.Clear();
        int end = EntriesEnd(block.Length, csum);
        SetRecLen(block, 0, end, block.Length);
        if (csum)
        {
            InitTail(block);
        }
    }

    /// <summary>
    /// The first block of a new linear directory (ext4_init_dot_dotdot): "." (rec_len 12) naming
    /// <paramref name="self"/>, ".." naming <paramref name="parent"/> over the rest.
    /// </summary>
    public static void InitDotDot(Span<byte> block, uint self, uint parent, bool filetype, bool csum)
    {
        block.Clear();
        int end = EntriesEnd(block.Length, csum);
        byte ft = filetype ? FileTypes.EXT4_FT_DIR : (byte)0;
        WriteEntry(block, 0, self, "."u8, ft);
        SetRecLen(block, 0, D.RecLen(1), block.Length);
        WriteEntry(block, D.RecLen(1), parent, ".."u8, ft);
        SetRecLen(block, D.RecLen(1), end - D.RecLen(1), block.Length);
        if (csum)
        {
            InitTail(block);
        }
    }

    /// <summary>ext4_initialize_dirent_tail: the fake entry in the last 12 bytes (checksum left as is).</summary>
    public static void InitTail(Span<byte> block)
    {
        Span<byte> t = block[^D.TailSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(t[D.det_reserved_zero1..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(t[D.det_rec_len..], D.TailSize);
        t[D.det_reserved_zero2] = 0;
        t[D.det_reserved_ft] = D.EXT4_FT_DIR_CSUM;
    }

    /// <summary>ext4_dirblock_csum_set: crc32c(directory inode seed, records) into det_checksum.</summary>
    public static void SetChecksum(Span<byte> block, uint inodeSeed)
    {
        int t = block.Length - D.TailSize;
        uint c = Crc32c.Append(inodeSeed, block[..t]);
        BinaryPrimitives.WriteUInt32LittleEndian(block[(t + D.det_checksum)..], c);
    }

    /// <summary>
    /// ext4_find_dest_de: the offset of the first record that can take a name of
    /// <paramref name="nameLength"/> bytes (an unused record big enough, or a live one whose
    /// slack after its own name is), -1 when none. <paramref name="exists"/> is set when a live
    /// record already carries <paramref name="name"/> (the caller's EEXIST); the search stops there.
    /// </summary>
    public static int FindSlot(ReadOnlySpan<byte> block, int start, int end, ReadOnlySpan<byte> name, out bool exists)
    {
        int need = D.RecLen(name.Length);
        exists = false;
        int found = -1;
        for (int o = start; o < end;)
        {
            var e = Walk(block, o, end);
            if (e.Inode != 0 && e.NameLen == name.Length && block.Slice(o + D.name, e.NameLen).SequenceEqual(name))
            {
                exists = true;
                return o;
            }

            int used = e.Inode != 0 ? D.RecLen(e.NameLen) : 0;
            if (found < 0 && e.RecLen >= used + need)
            {
                found = o;
            }

            o += e.RecLen;
        }

        return found;
    }

    /// <summary>
    /// ext4_insert_dentry at a slot <see cref="FindSlot"/> returned: a live record is cut to its
    /// own length and the new record takes the rest. Returns the new record's offset.
    /// </summary>
    public static int Insert(Span<byte> block, int slot, int end, ReadOnlySpan<byte> name, uint ino, byte fileType)
    {
        var e = Walk(block, slot, end);
        int o = slot;
        int recLen = e.RecLen;
        if (e.Inode != 0)
        {
            int used = D.RecLen(e.NameLen);
            SetRecLen(block, slot, used, block.Length);
            o = slot + used;
            recLen -= used;
        }

        if (recLen < D.RecLen(name.Length))
        {
            throw new InvalidOperationException($"directory slot at {slot} has no room for a {name.Length}-byte name");
        }

        block.Slice(o, recLen).Clear();
        WriteEntry(block, o, ino, name, fileType);
        SetRecLen(block, o, recLen, block.Length);
        return o;
    }

    /// <summary>The offset of the live record named <paramref name="name"/> in [start, end), -1 when absent.</summary>
    public static int Find(ReadOnlySpan<byte> block, int start, int end, ReadOnlySpan<byte> name, out int previous)
    {
        previous = -1;
        for (int o = start; o < end;)
        {
            var e = Walk(block, o, end);
            if (e.Inode != 0 && e.NameLen == name.Length && block.Slice(o + D.name, e.NameLen).SequenceEqual(name))
            {
                return o;
            }

            previous = o;
            o += e.RecLen;
        }

        return -1;
    }

    /// <summary>
    /// ext4_generic_delete_entry: the record at <paramref name="offset"/> joins the previous
    /// record's rec_len (its bytes are wiped), or, as the first record of the region, becomes
    /// unused (inode 0, name wiped, rec_len kept).
    /// </summary>
    public static void Remove(Span<byte> block, int offset, int previous, int end)
    {
        var e = Walk(block, offset, end);
        if (previous >= 0)
        {
            var p = Walk(block, previous, end);
            if (previous + p.RecLen != offset)
            {
                throw new InvalidOperationException($"directory record at {previous} does not precede {offset}");
            }

            SetRecLen(block, previous, p.RecLen + e.RecLen, block.Length);
            block.Slice(offset, e.RecLen).Clear();
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(block[(offset + D.inode)..], 0);
            block.Slice(offset + D.name_len, e.RecLen - D.name_len).Clear();
        }
    }

    /// <summary>Points the live record at <paramref name="offset"/> to another inode (rename over, "..").</summary>
    public static void SetInode(Span<byte> block, int offset, uint ino, byte fileType)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(block[(offset + D.inode)..], ino);
        block[offset + D.file_type] = fileType;
    }

    /// <summary>True when [start, end) holds no live record other than "." and "..".</summary>
    public static bool IsEmpty(ReadOnlySpan<byte> block, int start, int end)
    {
        for (int o = start; o < end;)
        {
            var e = Walk(block, o, end);
            if (e.Inode != 0)
            {
                ReadOnlySpan<byte> n = block.Slice(o + D.name, e.NameLen);
                if (!n.SequenceEqual("."u8) && !n.SequenceEqual(".."u8))
                {
                    return false;
                }
            }

            o += e.RecLen;
        }

        return true;
    }

    /// <summary>Live records of [start, end) as (offset, inode, name length).</summary>
    public static List<(int Offset, uint Inode, int NameLen)> Live(ReadOnlySpan<byte> block, int start, int end)
    {
        var list = new List<(int, uint, int)>();
        for (int o = start; o < end;)
        {
            var e = Walk(block, o, end);
            if (e.Inode != 0)
            {
                list.Add((o, e.Inode, e.NameLen));
            }

            o += e.RecLen;
        }

        return list;
    }

    /// <summary>
    /// The record at <paramref name="offset"/>, checked as ext4_check_dir_entry checks it
    /// (rec_len &gt;= 12, a multiple of 4, room for the name, inside [offset, end)).
    /// </summary>
    public static (uint Inode, int RecLen, int NameLen) Walk(ReadOnlySpan<byte> block, int offset, int end)
    {
        if (offset < 0 || end > block.Length || end - offset < D.MinRecLen)
        {
            throw new Ext4CorruptionException($"directory record at {offset}: overruns the block (end {end})");
        }

        uint ino = U32(block, offset + D.inode);
        int recLen = DecodeRecLen(U16(block, offset + D.rec_len), block.Length);
        int nameLen = block[offset + D.name_len];
        if (recLen < D.MinRecLen || (recLen & 3) != 0 || recLen < D.RecLen(nameLen) || recLen > end - offset)
        {
            throw new Ext4CorruptionException($"directory record at {offset}: bad rec_len {recLen} (name_len {nameLen}, end {end})");
        }

        return (ino, recLen, nameLen);
    }

    /// <summary>Writes inode, name_len, file_type and the name (rec_len untouched).</summary>
    public static void WriteEntry(Span<byte> block, int offset, uint ino, ReadOnlySpan<byte> name, byte fileType)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(block[(offset + D.inode)..], ino);
        block[offset + D.name_len] = (byte)name.Length;
        block[offset + D.file_type] = fileType;
        name.CopyTo(block[(offset + D.name)..]);
    }

    public static void SetRecLen(Span<byte> block, int offset, int recLen, int blockSize) =>
        BinaryPrimitives.WriteUInt16LittleEndian(block[(offset + D.rec_len)..], EncodeRecLen(recLen, blockSize));
}
