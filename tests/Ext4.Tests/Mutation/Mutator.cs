using Safemount.Ext4.Format;
using D = Safemount.Ext4.Format.DirEntryLayout;
using G = Safemount.Ext4.Format.GroupDescriptor;
using L = Safemount.Ext4.Format.InodeLayout;
using S = Safemount.Ext4.Format.SuperblockLayout;
using X = Safemount.Ext4.Format.ExtentLayout;
using XA = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// Random mutations of a base image's metadata, reproducible from (layout, seed): byte
/// flips/sets anywhere in the mapped metadata, and field-aware mutations that pick a field of
/// the structure (superblock, descriptor, inode, extent header/entry, dirent, dx entry, xattr
/// header/entry) and set it to 0, all ones, the old value plus or minus one, a random value,
/// or a value that points elsewhere (another metadata block, the structure's own block, the
/// volume's last block and one past it, a reserved or out-of-range inode number).
/// </summary>
internal static class Mutator
{
    private static readonly Field[] SuperblockFields =
    [
        new("s_inodes_count", S.s_inodes_count, 4, FieldRole.Inode), new("s_blocks_count_lo", S.s_blocks_count_lo, 4, FieldRole.Block),
        new("s_first_data_block", S.s_first_data_block, 4, FieldRole.Block), new("s_log_block_size", S.s_log_block_size, 4),
        new("s_log_cluster_size", S.s_log_cluster_size, 4), new("s_blocks_per_group", S.s_blocks_per_group, 4),
        new("s_clusters_per_group", S.s_clusters_per_group, 4), new("s_inodes_per_group", S.s_inodes_per_group, 4),
        new("s_rev_level", S.s_rev_level, 4), new("s_first_ino", S.s_first_ino, 4, FieldRole.Inode),
        new("s_inode_size", S.s_inode_size, 2), new("s_feature_compat", S.s_feature_compat, 4),
        new("s_feature_incompat", S.s_feature_incompat, 4), new("s_feature_ro_compat", S.s_feature_ro_compat, 4),
        new("s_uuid", S.s_uuid, 4), new("s_reserved_gdt_blocks", S.s_reserved_gdt_blocks, 2, FieldRole.Length),
        new("s_journal_inum", S.s_journal_inum, 4, FieldRole.Inode), new("s_hash_seed", S.s_hash_seed, 4),
        new("s_def_hash_version", S.s_def_hash_version, 1), new("s_desc_size", S.s_desc_size, 2),
        new("s_first_meta_bg", S.s_first_meta_bg, 4), new("s_blocks_count_hi", S.s_blocks_count_hi, 4),
        new("s_min_extra_isize", S.s_min_extra_isize, 2), new("s_flags", S.s_flags, 4),
        new("s_log_groups_per_flex", S.s_log_groups_per_flex, 1), new("s_checksum_type", S.s_checksum_type, 1),
        new("s_overhead_clusters", S.s_overhead_clusters, 4, FieldRole.Length), new("s_backup_bgs", S.s_backup_bgs, 4),
        new("s_checksum_seed", S.s_checksum_seed, 4), new("s_r_blocks_count_lo", S.s_r_blocks_count_lo, 4, FieldRole.Length),
    ];

    private static readonly Field[] DescriptorFields =
    [
        new("bg_block_bitmap_lo", G.bg_block_bitmap_lo, 4, FieldRole.Block), new("bg_inode_bitmap_lo", G.bg_inode_bitmap_lo, 4, FieldRole.Block),
        new("bg_inode_table_lo", G.bg_inode_table_lo, 4, FieldRole.Block), new("bg_free_blocks_count_lo", G.bg_free_blocks_count_lo, 2, FieldRole.Length),
        new("bg_free_inodes_count_lo", G.bg_free_inodes_count_lo, 2, FieldRole.Length), new("bg_flags", G.bg_flags, 2),
        new("bg_itable_unused_lo", G.bg_itable_unused_lo, 2, FieldRole.Length),
    ];

    private static readonly Field[] DescriptorFields64 =
    [
        new("bg_block_bitmap_hi", G.bg_block_bitmap_hi, 4), new("bg_inode_table_hi", G.bg_inode_table_hi, 4),
        new("bg_free_blocks_count_hi", G.bg_free_blocks_count_hi, 2),
    ];

    private static readonly Field[] InodeFields =
    [
        new("i_mode", L.i_mode, 2), new("i_size_lo", L.i_size_lo, 4, FieldRole.Length), new("i_size_high", L.i_size_high, 4, FieldRole.Length),
        new("i_links_count", L.i_links_count, 2), new("i_blocks_lo", L.i_blocks_lo, 4, FieldRole.Length), new("i_flags", L.i_flags, 4),
        new("i_generation", L.i_generation, 4), new("i_file_acl_lo", L.i_file_acl_lo, 4, FieldRole.Block),
        new("l_i_blocks_high", L.l_i_blocks_high, 2), new("l_i_file_acl_high", L.l_i_file_acl_high, 2),
        new("i_block[0]", L.i_block, 4, FieldRole.Block), new("i_block[1]", L.i_block + 4, 4, FieldRole.Block),
        new("i_block[2]", L.i_block + 8, 4, FieldRole.Block), new("i_block[3]", L.i_block + 12, 4, FieldRole.Block),
        new("i_block[4]", L.i_block + 16, 4, FieldRole.Block), new("i_block[5]", L.i_block + 20, 4, FieldRole.Block),
        new("i_block[12]", L.i_block + 48, 4, FieldRole.Block), new("i_block[13]", L.i_block + 52, 4, FieldRole.Block),
        new("i_block[14]", L.i_block + 56, 4, FieldRole.Block),
        new("eh_entries", L.i_block + X.eh_entries, 2), new("eh_max", L.i_block + X.eh_max, 2), new("eh_depth", L.i_block + X.eh_depth, 2),
        new("ee_len[0]", L.i_block + 12 + X.ee_len, 2, FieldRole.Length), new("ee_start_hi[0]", L.i_block + 12 + X.ee_start_hi, 2),
        new("ee_block[1]", L.i_block + 24 + X.ee_block, 4),
    ];

    private static readonly Field[] LargeInodeFields =
    [
        new("i_extra_isize", L.i_extra_isize, 2), new("i_checksum_hi", L.i_checksum_hi, 2),
        new("ibody magic", L.GoodOldInodeSize + 32, 4), new("ibody e_name_len", L.GoodOldInodeSize + 36 + XA.e_name_len, 1),
        new("ibody e_value_offs", L.GoodOldInodeSize + 36 + XA.e_value_offs, 2, FieldRole.Length),
        new("ibody e_value_size", L.GoodOldInodeSize + 36 + XA.e_value_size, 4, FieldRole.Length),
        new("ibody e_value_inum", L.GoodOldInodeSize + 36 + XA.e_value_inum, 4, FieldRole.Inode),
    ];

    private static readonly Field[] ExtentHeaderFields =
    [
        new("eh_magic", X.eh_magic, 2), new("eh_entries", X.eh_entries, 2), new("eh_max", X.eh_max, 2), new("eh_depth", X.eh_depth, 2),
    ];

    private static readonly Field[] ExtentEntryFields =
    [
        new("ee_block", X.ee_block, 4), new("ee_len", X.ee_len, 2, FieldRole.Length), new("ee_start_hi", X.ee_start_hi, 2),
        new("ee_start_lo", X.ee_start_lo, 4, FieldRole.Block),
    ];

    private static readonly Field[] DirentFields =
    [
        new("inode", D.inode, 4, FieldRole.Inode), new("rec_len", D.rec_len, 2, FieldRole.Length),
        new("name_len", D.name_len, 1, FieldRole.Length), new("file_type", D.file_type, 1),
    ];

    private static readonly Field[] XattrHeaderFields =
    [
        new("h_magic", XA.h_magic, 4), new("h_refcount", XA.h_refcount, 4), new("h_blocks", XA.h_blocks, 4),
    ];

    private static readonly Field[] XattrEntryFields =
    [
        new("e_name_len", XA.e_name_len, 1, FieldRole.Length), new("e_name_index", XA.e_name_index, 1),
        new("e_value_offs", XA.e_value_offs, 2, FieldRole.Length), new("e_value_inum", XA.e_value_inum, 4, FieldRole.Inode),
        new("e_value_size", XA.e_value_size, 4, FieldRole.Length),
    ];

    /// <summary>1..6 byte flips, zeroings or 0xFF sets at random offsets of random regions.</summary>
    public static void ByteFlips(MutatedImage img, Random rng)
    {
        int flips = 1 + rng.Next(6);
        for (int i = 0; i < flips; i++)
        {
            var r = PickRegion(img.Base, rng);
            long at = r.Offset + rng.Next(r.Length);
            byte old = img[at];
            byte value = rng.Next(4) switch
            {
                0 => 0,
                1 => 0xFF,
                _ => (byte)(old ^ (1 << rng.Next(8))),
            };
            img[at] = value;
            img.Log.Add($"byte {at} ({r.Kind} owner {r.Owner}) 0x{old:x2} -> 0x{value:x2}");
        }
    }

    /// <summary>One to three field-aware mutations.</summary>
    public static void Fields(MutatedImage img, Random rng)
    {
        int n = 1 + rng.Next(3);
        for (int i = 0; i < n; i++)
        {
            var r = PickRegion(img.Base, rng);
            if (PickField(img, r, rng) is not var (at, field))
            {
                ByteFlips(img, rng);
                continue;
            }

            ulong old = img.ReadField(at, field.Size);
            ulong value = Value(img, r, field, old, rng);
            img.WriteField(at, field.Size, value);
            img.Log.Add($"{r.Kind} owner {r.Owner} block {r.Block}: {field.Name} @{at} {old} -> {value}");
        }
    }

    /// <summary>
    /// A region chosen kind first (uniformly over the kinds the image has), then uniformly within
    /// the kind, so the one superblock is hit as often as the hundreds of inodes.
    /// </summary>
    public static MetadataRegion PickRegion(BaseImage b, Random rng)
    {
        var kinds = b.Kinds;
        var list = b.RegionsOf(kinds[rng.Next(kinds.Count)]);
        return list[rng.Next(list.Count)];
    }

    /// <summary>A field of region <paramref name="r"/> and its absolute offset, or null for regions without fields (bitmaps, symlink blocks).</summary>
    private static (long At, Field Field)? PickField(MutatedImage img, MetadataRegion r, Random rng)
    {
        var b = img.Base;
        switch (r.Kind)
        {
            case RegionKind.Superblock or RegionKind.BackupSuperblock:
                return (r.Offset, SuperblockFields[rng.Next(SuperblockFields.Length)]);
            case RegionKind.GroupDescriptors:
            {
                bool is64 = (BitConverter.ToUInt32(b.Bytes, S.Offset + S.s_feature_incompat) & Ext4Features.INCOMPAT_64BIT) != 0;
                int descSize = is64 ? BitConverter.ToUInt16(b.Bytes, S.Offset + S.s_desc_size) : G.Size32;
                int groups = b.OfKind(RegionKind.BlockBitmap).Count();
                int inBlock = Math.Max(1, Math.Min(r.Length / descSize, groups - ((int)r.Index * (r.Length / descSize))));
                long d = r.Offset + ((long)rng.Next(inBlock) * descSize);
                var fields = is64 && rng.Next(4) == 0 ? DescriptorFields64 : DescriptorFields;
                return (d, fields[rng.Next(fields.Length)]);
            }

            case RegionKind.Inode:
            {
                var fields = r.Length > L.GoodOldInodeSize && rng.Next(4) == 0 ? LargeInodeFields : InodeFields;
                return (r.Offset, fields[rng.Next(fields.Length)]);
            }

            case RegionKind.ExtentBlock:
            {
                int entries = BitConverter.ToUInt16(b.Bytes, (int)r.Offset + X.eh_entries);
                if (entries == 0 || rng.Next(4) == 0)
                {
                    return (r.Offset, ExtentHeaderFields[rng.Next(ExtentHeaderFields.Length)]);
                }

                return (r.Offset + (X.EntrySize * (1 + rng.Next(entries))), ExtentEntryFields[rng.Next(ExtentEntryFields.Length)]);
            }

            case RegionKind.IndirectBlock:
                return (r.Offset + (4L * rng.Next(r.Length / 4)), new Field("indirect pointer", 0, 4, FieldRole.Block));
            case RegionKind.DirLeaf:
            {
                var offsets = DirentOffsets(b.Bytes, r);
                return offsets.Count == 0 ? null : (r.Offset + offsets[rng.Next(offsets.Count)], DirentFields[rng.Next(DirentFields.Length)]);
            }

            case RegionKind.DxRoot or RegionKind.DxNode:
            {
                int entries = r.Kind == RegionKind.DxRoot ? D.dx_root_info + D.DxRootInfoSize : D.DxNodeEntries;
                int count = BitConverter.ToUInt16(b.Bytes, (int)r.Offset + entries + D.dx_count);
                int pick = rng.Next(4);
                if (r.Kind == RegionKind.DxRoot && pick == 0)
                {
                    Field[] info = [new("info_hash_version", D.info_hash_version, 1), new("info_length", D.info_length, 1), new("info_indirect_levels", D.info_indirect_levels, 1), new("info_unused_flags", D.info_unused_flags, 1), new("dot.inode", D.inode, 4, FieldRole.Inode), new("dotdot.inode", 12 + D.inode, 4, FieldRole.Inode), new("dotdot.rec_len", 12 + D.rec_len, 2, FieldRole.Length)];
                    return (r.Offset, info[rng.Next(info.Length)]);
                }

                if (pick == 1)
                {
                    Field[] cl = [new("dx_limit", D.dx_limit, 2, FieldRole.Length), new("dx_count", D.dx_count, 2, FieldRole.Length)];
                    return (r.Offset + entries, cl[rng.Next(cl.Length)]);
                }

                int k = rng.Next(Math.Max(1, Math.Min(count, 500)));
                Field[] e = k == 0 ? [new("dx_block[0]", D.dx_block, 4)] : [new("dx_hash", D.dx_hash, 4), new("dx_block", D.dx_block, 4)];
                return (r.Offset + entries + (k * D.DxEntrySize), e[rng.Next(e.Length)]);
            }

            case RegionKind.XattrBlock:
                if (rng.Next(3) == 0)
                {
                    return (r.Offset, XattrHeaderFields[rng.Next(XattrHeaderFields.Length)]);
                }

                return (r.Offset + XA.BlockHeaderSize, XattrEntryFields[rng.Next(XattrEntryFields.Length)]);
            default:
                return null;
        }
    }

    /// <summary>Offsets of the records of a clean directory leaf block (following rec_len from 0).</summary>
    public static List<int> DirentOffsets(byte[] bytes, MetadataRegion r)
    {
        var list = new List<int>();
        int o = 0;
        while (o + D.MinRecLen <= r.Length && list.Count < 1000)
        {
            list.Add(o);
            int rec = BitConverter.ToUInt16(bytes, (int)r.Offset + o + D.rec_len);
            if (rec < D.MinRecLen)
            {
                break;
            }

            o += rec;
        }

        return list;
    }

    private static ulong Value(MutatedImage img, MetadataRegion r, Field f, ulong old, Random rng)
    {
        ulong max = f.Size == 8 ? ulong.MaxValue : (1UL << (8 * f.Size)) - 1;
        var b = img.Base;
        switch (rng.Next(7))
        {
            case 0: return 0;
            case 1: return max;
            case 2: return (old + 1) & max;
            case 3: return (old - 1) & max;
            case 4: return (ulong)rng.NextInt64() & max;
            case 5: return old ^ (1UL << rng.Next(8 * f.Size));
        }

        return f.Role switch
        {
            FieldRole.Block => Pick(rng, [
                r.Block, b.BlocksCount - 1, b.BlocksCount, b.BlocksCount + 1, (ulong)(SuperblockLayout.Offset / b.BlockSize),
                b.Regions[rng.Next(b.Regions.Count)].Block, b.Regions[rng.Next(b.Regions.Count)].Block]) & max,
            FieldRole.Inode => Pick(rng, [0, 1, 2, 7, 8, 11, b.InodesCount, b.InodesCount + 1, r.Owner, ulong.MaxValue]) & max,
            FieldRole.Length => Pick(rng, [1, (ulong)b.BlockSize, (ulong)b.BlockSize + 4, 32768, 65535, 1UL << 31, 1UL << 44, long.MaxValue]) & max,
            _ => (ulong)rng.NextInt64() & max,
        };
    }

    private static ulong Pick(Random rng, ulong[] values) => values[rng.Next(values.Length)];
}
