using System.Buffers.Binary;
using Safemount.Ext4.Format;
using G = Safemount.Ext4.Format.GroupDescriptor;

namespace Safemount.Ext4;

/// <summary>
/// Group descriptor counters read and written through the descriptor blocks in the cache
/// (kernel: ext4_get_group_desc, ext4_free_group_clusters_set, ext4_group_desc_csum_set).
/// The caller of <see cref="WriteGroupCounters"/> holds the group's allocator lock, so counters
/// of one group never race; descriptors sharing a block are kept apart by the block's stripe.
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>The current counters of <paramref name="group"/>.</summary>
    internal GroupCounters ReadGroupCounters(uint group)
    {
        var (block, offset) = DescriptorLocation(group);
        ReadOnlySpan<byte> d = ReadMetadataBlock(block, $"group descriptor {group}").AsSpan(offset, DescriptorSize(Sb));
        return new GroupCounters
        {
            FreeBlocks = Get(d, G.bg_free_blocks_count_lo, G.bg_free_blocks_count_hi),
            FreeInodes = Get(d, G.bg_free_inodes_count_lo, G.bg_free_inodes_count_hi),
            UsedDirs = Get(d, G.bg_used_dirs_count_lo, G.bg_used_dirs_count_hi),
            ItableUnused = Get(d, G.bg_itable_unused_lo, G.bg_itable_unused_hi),
            Flags = BinaryPrimitives.ReadUInt16LittleEndian(d[G.bg_flags..]),
            BlockBitmapCsum = Get(d, G.bg_block_bitmap_csum_lo, G.bg_block_bitmap_csum_hi),
            InodeBitmapCsum = Get(d, G.bg_inode_bitmap_csum_lo, G.bg_inode_bitmap_csum_hi),
        };

        // A 16-bit lo half, and the 16-bit hi half when the descriptor is 64 bytes or more.
        static uint Get(ReadOnlySpan<byte> d, int lo, int hi) =>
            BinaryPrimitives.ReadUInt16LittleEndian(d[lo..])
            | (d.Length >= G.MinSize64 ? (uint)BinaryPrimitives.ReadUInt16LittleEndian(d[hi..]) << 16 : 0);
    }

    /// <summary>Writes <paramref name="counters"/> into descriptor <paramref name="group"/> and re-seals bg_checksum.</summary>
    internal void WriteGroupCounters(Ext4Transaction tx, uint group, in GroupCounters counters)
    {
        var (block, offset) = DescriptorLocation(group);
        int size = DescriptorSize(Sb);
        GroupCounters c = counters;
        if (size < G.MinSize64 && (c.FreeBlocks > ushort.MaxValue || c.FreeInodes > ushort.MaxValue || c.UsedDirs > ushort.MaxValue || c.ItableUnused > ushort.MaxValue))
        {
            throw new Ext4CorruptionException($"group {group}: a counter does not fit a 32-byte descriptor");
        }

        var sb = Sb;
        tx.Modify(block, $"group descriptor {group}", b =>
        {
            Span<byte> d = b.Slice(offset, size);
            Put(d, G.bg_free_blocks_count_lo, G.bg_free_blocks_count_hi, c.FreeBlocks);
            Put(d, G.bg_free_inodes_count_lo, G.bg_free_inodes_count_hi, c.FreeInodes);
            Put(d, G.bg_used_dirs_count_lo, G.bg_used_dirs_count_hi, c.UsedDirs);
            Put(d, G.bg_itable_unused_lo, G.bg_itable_unused_hi, c.ItableUnused);
            BinaryPrimitives.WriteUInt16LittleEndian(d[G.bg_flags..], c.Flags);
            Put(d, G.bg_block_bitmap_csum_lo, G.bg_block_bitmap_csum_hi, c.BlockBitmapCsum);
            Put(d, G.bg_inode_bitmap_csum_lo, G.bg_inode_bitmap_csum_hi, c.InodeBitmapCsum);
            if (DescriptorChecksum(sb, group, d) is { } csum)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(d[G.bg_checksum..], csum);
            }
        });
    }

    /// <summary>Writes a 16-bit lo half, and the hi half when the descriptor is 64 bytes or more.</summary>
    private static void Put(Span<byte> d, int lo, int hi, uint v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(d[lo..], (ushort)v);
        if (d.Length >= G.MinSize64)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(d[hi..], (ushort)(v >> 16));
        }
    }

    /// <summary>The descriptor block of <paramref name="group"/> and the descriptor's byte offset in it.</summary>
    private (ulong Block, int Offset) DescriptorLocation(uint group)
    {
        if (group >= (uint)Groups.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(group), $"group {group} of {Groups.Length}");
        }

        int size = DescriptorSize(Sb);
        uint perBlock = BlockSize / (uint)size;
        return (DescriptorBlockLocation(Sb, group / perBlock, perBlock), (int)(group % perBlock) * size);
    }
}
