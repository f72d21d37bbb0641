using System.Buffers.Binary;
using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>
/// Writes xattr regions from a record list (kernel: fs/ext4/xattr.c ext4_xattr_set_entry,
/// ext4_xattr_hash_entry, ext4_xattr_rehash, ext4_xattr_block_csum_set). A region is either
/// the in-inode area after the ibody magic (entries from 0, value offsets relative to the first
/// entry, unsorted: new entries go last) or an xattr block (32-byte header, entries from 32
/// sorted by (e_name_index, e_name_len, e_name) as ext4_xattr_find_entry's sorted search
/// needs, value offsets relative to the block). Entries run up from the start, ended by a zero
/// u32; values, each padded to 4 bytes, are packed down from the region's end in entry order.
/// </summary>
internal static class XattrCodec
{
    private const int BlockHashShift = 16;   // BLOCK_HASH_SHIFT

    /// <summary>EXT4_XATTR_SIZE: a value's space in the region (padded to 4 bytes).</summary>
    public static int ValueSpace(uint size) => (int)((size + 3) & ~3u);

    /// <summary>Bytes the records need from the entries' start to the region end: entries, the terminator, values.</summary>
    public static long Space(IEnumerable<XattrRecord> records)
    {
        long need = 4;
        foreach (var r in records)
        {
            need += X.EntryLen(r.Name.Length);
            if (r.ValueInum == 0)
            {
                need += ValueSpace(r.ValueSize);
            }
        }

        return need;
    }

    /// <summary>ext4_xattr_hash_entry (unsigned name bytes, as the kernel writes): name, then the padded value's le32 words.</summary>
    public static uint EntryHash(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var words = new uint[(value.Length + 3) / 4];
        Span<byte> last = stackalloc byte[4];
        for (int i = 0; i < words.Length; i++)
        {
            int o = i * 4;
            if (value.Length - o >= 4)
            {
                words[i] = BinaryPrimitives.ReadUInt32LittleEndian(value[o..]);
            }
            else
            {
                last.Clear();
                value[o..].CopyTo(last);
                words[i] = BinaryPrimitives.ReadUInt32LittleEndian(last);
            }
        }

        return XattrHash.Entry(name, words, signedName: false);
    }

    /// <summary>ext4_xattr_rehash: the block hash over the entry hashes; 0 when any entry hash is 0.</summary>
    public static uint BlockHash(IEnumerable<XattrRecord> records)
    {
        uint hash = 0;
        foreach (var r in records)
        {
            if (r.Hash == 0)
            {
                return 0;
            }

            hash = (hash << BlockHashShift) ^ (hash >> (32 - BlockHashShift)) ^ r.Hash;
        }

        return hash;
    }

    /// <summary>The order of entries in an xattr block (ext4_xattr_find_entry, sorted).</summary>
    public static int Compare(XattrRecord a, XattrRecord b)
    {
        int c = a.Index.CompareTo(b.Index);
        if (c == 0)
        {
            c = a.Name.Length.CompareTo(b.Name.Length);
        }

        return c != 0 ? c : a.Name.AsSpan().SequenceCompareTo(b.Name);
    }

    /// <summary>
    /// Rewrites [entriesStart, region end) with <paramref name="records"/> in list order
    /// (values offset from <paramref name="offsetBase"/>). False, with the region untouched,
    /// when they do not fit.
    /// </summary>
    public static bool TryEncode(Span<byte> region, int entriesStart, int offsetBase, IReadOnlyList<XattrRecord> records)
    {
        if (Space(records) > region.Length - entriesStart)
        {
            return false;
        }

        region[entriesStart..].Clear();
        int e = entriesStart;
        int valueEnd = region.Length;
        foreach (var r in records)
        {
            region[e + X.e_name_len] = (byte)r.Name.Length;
            region[e + X.e_name_index] = r.Index;
            ushort offs = 0;
            if (r.ValueInum == 0 && r.ValueSize > 0)
            {
                valueEnd -= ValueSpace(r.ValueSize);
                r.Value.AsSpan().CopyTo(region[valueEnd..]);
                offs = (ushort)(valueEnd - offsetBase);
            }

            BinaryPrimitives.WriteUInt16LittleEndian(region[(e + X.e_value_offs)..], offs);
            BinaryPrimitives.WriteUInt32LittleEndian(region[(e + X.e_value_inum)..], r.ValueInum);
            BinaryPrimitives.WriteUInt32LittleEndian(region[(e + X.e_value_size)..], r.ValueSize);
            BinaryPrimitives.WriteUInt32LittleEndian(region[(e + X.e_hash)..], r.Hash);
            r.Name.CopyTo(region[(e + X.e_name)..]);
            e += X.EntryLen(r.Name.Length);
        }

        return true;
    }

    /// <summary>
    /// A whole xattr block: header (magic, h_refcount, h_blocks 1, h_hash) and the records
    /// sorted; the caller sets the checksum once the block number is known. False when they do not fit.
    /// </summary>
    public static bool TryEncodeBlock(Span<byte> block, uint refcount, List<XattrRecord> records)
    {
        records.Sort(Compare);
        if (!TryEncode(block, X.BlockHeaderSize, 0, records))
        {
            return false;
        }

        block[..X.BlockHeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(block[X.h_magic..], X.EXT4_XATTR_MAGIC);
        BinaryPrimitives.WriteUInt32LittleEndian(block[X.h_refcount..], refcount);
        BinaryPrimitives.WriteUInt32LittleEndian(block[X.h_blocks..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(block[X.h_hash..], BlockHash(records));
        return true;
    }

    /// <summary>ext4_xattr_block_csum_set: crc32c(s_csum_seed, le64 block number, block with h_checksum as zero).</summary>
    public static void SetBlockChecksum(Span<byte> block, ulong blockNr, uint csumSeed)
    {
        uint c = Crc32c.AppendLe64(csumSeed, blockNr);
        c = Crc32c.Append(c, block[..X.h_checksum]);
        c = Crc32c.AppendZeros(c, 4);
        c = Crc32c.Append(c, block[(X.h_checksum + 4)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(block[X.h_checksum..], c);
    }
}
