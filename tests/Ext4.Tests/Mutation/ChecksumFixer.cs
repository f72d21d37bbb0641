using Safemount.Ext4.Format;
using D = Safemount.Ext4.Format.DirEntryLayout;
using L = Safemount.Ext4.Format.InodeLayout;
using S = Safemount.Ext4.Format.SuperblockLayout;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// "Checksums that are right on garbage": after a mutation, recomputes every checksum the
/// engine verifies, over the bytes as they now are, so the damage reaches the structural
/// checks behind the checksum gate. Covered: the superblock (crc32c), every group descriptor
/// (crc32c low 16 bits with metadata_csum, crc16 with gdt_csum), every mapped inode (lo and,
/// when i_extra_isize makes room, hi), extent block tails, directory leaf tails, dx_root and
/// dx_node tails, and xattr blocks. Seeds come from the mutated superblock and inodes, so a
/// changed s_uuid, s_checksum_seed or i_generation is sealed consistently too. Bitmaps are not
/// read by the engine and are left alone. Where a mutated length field leaves no room for a
/// tail, the tail is left as it is (the engine then reports it).
/// </summary>
internal static class ChecksumFixer
{
    public static void Fix(MutatedImage img)
    {
        var b = img.Base;
        uint roCompat = img.U32(S.Offset + S.s_feature_ro_compat);
        uint incompat = img.U32(S.Offset + S.s_feature_incompat);
        bool csum = (roCompat & Ext4Features.RO_COMPAT_METADATA_CSUM) != 0;
        bool gdtCsum = (roCompat & Ext4Features.RO_COMPAT_GDT_CSUM) != 0;
        byte[] uuid = img.Slice(S.Offset + S.s_uuid, 16);
        uint fsSeed = (incompat & Ext4Features.INCOMPAT_CSUM_SEED) != 0
            ? img.U32(S.Offset + S.s_checksum_seed)
            : Crc32c.Append(~0u, uuid);
        int groups = b.OfKind(RegionKind.BlockBitmap).Count();

        foreach (var r in b.Regions)
        {
            switch (r.Kind)
            {
                case RegionKind.GroupDescriptors when csum || gdtCsum:
                    FixDescriptors(img, r, incompat, csum, fsSeed, uuid, groups);
                    break;
                case RegionKind.Inode when csum:
                    FixInode(img, r.Offset, r.Length, r.Owner, fsSeed);
                    break;
                case RegionKind.ExtentBlock when csum:
                    FixExtentBlock(img, r, InodeSeed(img, r.Owner, fsSeed));
                    break;
                case RegionKind.DirLeaf or RegionKind.DxRoot or RegionKind.DxNode when csum:
                    FixDirBlock(img, r, InodeSeed(img, r.Owner, fsSeed));
                    break;
                case RegionKind.XattrBlock when csum:
                    FixXattrBlock(img, r, fsSeed);
                    break;
            }
        }

        if (csum)
        {
            var sb = img.Slice(S.Offset, S.s_checksum);
            img.W32(S.Offset + S.s_checksum, Crc32c.Append(~0u, sb));
        }
    }

    /// <summary>crc32c(crc32c(fs seed, le32 ino), le32 i_generation) with the generation as the image now has it.</summary>
    public static uint InodeSeed(MutatedImage img, uint ino, uint fsSeed)
    {
        var facts = img.Base.Inodes[ino];
        uint c = Crc32c.AppendLe32(fsSeed, ino);
        return Crc32c.AppendLe32(c, img.U32(facts.Offset + L.i_generation));
    }

    private static void FixDescriptors(MutatedImage img, MetadataRegion r, uint incompat, bool csum, uint fsSeed, byte[] uuid, int groups)
    {
        int descSize = (incompat & Ext4Features.INCOMPAT_64BIT) != 0 ? img.U16(S.Offset + S.s_desc_size) : GroupDescriptor.Size32;
        if (descSize < GroupDescriptor.Size32 || descSize > r.Length || (descSize & (descSize - 1)) != 0)
        {
            return;
        }

        int perBlock = r.Length / descSize;
        Span<byte> le = stackalloc byte[4];
        for (int i = 0; i < perBlock; i++)
        {
            long g = ((long)r.Index * perBlock) + i;
            if (g >= groups)
            {
                break;
            }

            long at = r.Offset + ((long)i * descSize);
            var d = img.Slice(at, descSize);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(le, (uint)g);
            ushort value;
            if (csum)
            {
                uint c = Crc32c.Append(fsSeed, le);
                c = Crc32c.Append(c, d.AsSpan(0, GroupDescriptor.bg_checksum));
                c = Crc32c.AppendZeros(c, 2);
                c = Crc32c.Append(c, d.AsSpan(GroupDescriptor.bg_checksum + 2));
                value = (ushort)c;
            }
            else
            {
                ushort c = Crc16.Append(0xFFFF, uuid);
                c = Crc16.Append(c, le);
                c = Crc16.Append(c, d.AsSpan(0, GroupDescriptor.bg_checksum));
                c = Crc16.Append(c, d.AsSpan(GroupDescriptor.bg_checksum + 2));
                value = c;
            }

            if (img.U16(at + GroupDescriptor.bg_checksum) != value)
            {
                img.W16(at + GroupDescriptor.bg_checksum, value);
            }
        }
    }

    /// <summary>ext4_inode_csum over the inode with both checksum fields as zero; hi half only when i_extra_isize covers it.</summary>
    private static void FixInode(MutatedImage img, long at, int size, uint ino, uint fsSeed)
    {
        var r = img.Slice(at, size);
        int extra = size > L.GoodOldInodeSize ? BitConverter.ToUInt16(r, L.i_extra_isize) : 0;
        if (L.GoodOldInodeSize + extra > size)
        {
            return; // the engine refuses the inode before its checksum
        }

        bool hasHi = size > L.GoodOldInodeSize && L.i_checksum_hi + 2 <= L.GoodOldInodeSize + extra;
        r[L.l_i_checksum_lo] = r[L.l_i_checksum_lo + 1] = 0;
        if (hasHi)
        {
            r[L.i_checksum_hi] = r[L.i_checksum_hi + 1] = 0;
        }

        uint c = Crc32c.AppendLe32(Crc32c.AppendLe32(fsSeed, ino), BitConverter.ToUInt32(r, L.i_generation));
        c = Crc32c.Append(c, r);
        img.W16(at + L.l_i_checksum_lo, (ushort)c);
        if (hasHi)
        {
            img.W16(at + L.i_checksum_hi, (ushort)(c >> 16));
        }
    }

    private static void FixExtentBlock(MutatedImage img, MetadataRegion r, uint seed)
    {
        int max = img.U16(r.Offset + ExtentLayout.eh_max);
        int tail = ExtentLayout.EntrySize + (max * ExtentLayout.EntrySize);
        if (tail + ExtentLayout.TailSize <= r.Length)
        {
            img.W32(r.Offset + tail, Crc32c.Append(seed, img.Slice(r.Offset, tail)));
        }
    }

    private static void FixDirBlock(MutatedImage img, MetadataRegion r, uint seed)
    {
        var block = img.Slice(r.Offset, r.Length);
        bool dxNode = BitConverter.ToUInt32(block, D.inode) == 0 && block[D.name_len] == 0 && BitConverter.ToUInt16(block, D.rec_len) == (block.Length & 0xFFFF);
        if (r.Kind == RegionKind.DxRoot || (r.Kind == RegionKind.DxNode && dxNode))
        {
            int entries = r.Kind == RegionKind.DxRoot ? D.dx_root_info + block[D.info_length] : D.DxNodeEntries;
            if (entries + 4 > block.Length)
            {
                return;
            }

            int limit = BitConverter.ToUInt16(block, entries + D.dx_limit);
            int count = BitConverter.ToUInt16(block, entries + D.dx_count);
            int tail = entries + (limit * D.DxEntrySize);
            if (count > limit || tail + D.DxTailSize > block.Length)
            {
                return;
            }

            uint c = Crc32c.Append(seed, block.AsSpan(0, entries + (count * D.DxEntrySize)));
            c = Crc32c.Append(c, block.AsSpan(tail + D.dt_reserved, 4));
            c = Crc32c.AppendZeros(c, 4);
            img.W32(r.Offset + tail + D.dt_checksum, c);
            return;
        }

        int t = block.Length - D.TailSize;
        if (BitConverter.ToUInt16(block, t + D.det_rec_len) == D.TailSize && block[t + D.det_reserved_ft] == D.EXT4_FT_DIR_CSUM)
        {
            img.W32(r.Offset + t + D.det_checksum, Crc32c.Append(seed, block.AsSpan(0, t)));
        }
    }

    private static void FixXattrBlock(MutatedImage img, MetadataRegion r, uint fsSeed)
    {
        var block = img.Slice(r.Offset, r.Length);
        uint c = Crc32c.AppendLe64(fsSeed, r.Block);
        c = Crc32c.Append(c, block.AsSpan(0, XattrLayout.h_checksum));
        c = Crc32c.AppendZeros(c, 4);
        c = Crc32c.Append(c, block.AsSpan(XattrLayout.h_checksum + 4));
        img.W32(r.Offset + XattrLayout.h_checksum, c);
    }
}
