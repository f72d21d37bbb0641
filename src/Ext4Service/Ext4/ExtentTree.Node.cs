using System.Buffers.Binary;
using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.ExtentLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

internal static partial class ExtentTree
{
    /// <summary>Entries the root in i_block holds: (60 - 12) / 12.</summary>
    public const int RootCapacity = (InodeLayout.IBlockSize - X.EntrySize) / X.EntrySize;

    /// <summary>Entries a tree block holds: (block size - header - ext4_extent_tail) / 12, as ext4_ext_space_block.</summary>
    public static int BlockCapacity(uint blockSize) => (int)((blockSize - X.EntrySize - X.TailSize) / X.EntrySize);

    /// <summary>Writes a header (eh_generation 0).</summary>
    public static void WriteHeader(Span<byte> node, int entries, int max, int depth)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(node[X.eh_magic..], X.EXT4_EXT_MAGIC);
        BinaryPrimitives.WriteUInt16LittleEndian(node[X.eh_entries..], checked((ushort)entries));
        BinaryPrimitives.WriteUInt16LittleEndian(node[X.eh_max..], checked((ushort)max));
        BinaryPrimitives.WriteUInt16LittleEndian(node[X.eh_depth..], checked((ushort)depth));
        BinaryPrimitives.WriteUInt32LittleEndian(node[X.eh_generation..], 0);
    }

    /// <summary>Encodes leaf entry <paramref name="i"/> (ee_len + 32768 for an unwritten extent).</summary>
    public static void WriteExtent(Span<byte> node, int i, Extent e)
    {
        if (e.Length == 0 || e.Length > e.MaxLength || e.Physical > MaxPhysical || e.End > 1UL << 32)
        {
            throw new ArgumentOutOfRangeException(nameof(e), $"not encodable: {e}");
        }

        var at = node[(X.EntrySize * (i + 1))..];
        BinaryPrimitives.WriteUInt32LittleEndian(at[X.ee_block..], e.Logical);
        BinaryPrimitives.WriteUInt16LittleEndian(at[X.ee_len..], (ushort)(e.Unwritten ? e.Length + X.InitMaxLen : e.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(at[X.ee_start_hi..], (ushort)(e.Physical >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(at[X.ee_start_lo..], (uint)e.Physical);
    }

    /// <summary>Decodes leaf entry <paramref name="i"/> (no validation: the reader's walk validates).</summary>
    public static Extent ReadExtent(ReadOnlySpan<byte> node, int i)
    {
        int at = X.EntrySize * (i + 1);
        uint raw = U16(node, at + X.ee_len);
        bool unwritten = raw > X.InitMaxLen;
        ulong phys = U32(node, at + X.ee_start_lo) | ((ulong)U16(node, at + X.ee_start_hi) << 32);
        return new Extent(U32(node, at + X.ee_block), unwritten ? raw - X.InitMaxLen : raw, phys, unwritten);
    }

    /// <summary>Encodes index entry <paramref name="i"/> (struct ext4_extent_idx, ei_unused 0).</summary>
    public static void WriteIndex(Span<byte> node, int i, uint logical, ulong child)
    {
        var at = node[(X.EntrySize * (i + 1))..];
        BinaryPrimitives.WriteUInt32LittleEndian(at[X.ei_block..], logical);
        BinaryPrimitives.WriteUInt32LittleEndian(at[X.ei_leaf_lo..], (uint)child);
        BinaryPrimitives.WriteUInt16LittleEndian(at[X.ei_leaf_hi..], (ushort)(child >> 32));
        BinaryPrimitives.WriteUInt16LittleEndian(at[X.ei_unused..], 0);
    }

    /// <summary>Decodes index entry <paramref name="i"/>: (ei_block, child block).</summary>
    public static (uint Logical, ulong Child) ReadIndex(ReadOnlySpan<byte> node, int i)
    {
        int at = X.EntrySize * (i + 1);
        return (U32(node, at + X.ei_block), U32(node, at + X.ei_leaf_lo) | ((ulong)U16(node, at + X.ei_leaf_hi) << 32));
    }

    /// <summary>
    /// ext4_extent_block_csum_set: crc32c(inode seed, block[0 .. 12 + eh_max*12]) into the
    /// ext4_extent_tail that follows eh_max entries.
    /// </summary>
    public static void SetTailChecksum(Span<byte> block, uint inodeSeed)
    {
        int tail = X.EntrySize + (U16(block, X.eh_max) * X.EntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(block[tail..], Crc32c.Append(inodeSeed, block[..tail]));
    }
}
