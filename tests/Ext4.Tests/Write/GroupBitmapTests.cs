using System.Buffers.Binary;
using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Bitmap checksums and computed uninit-group bitmaps against what mkfs.ext4 wrote: the
/// stored bg_*_bitmap_csum values, and (with uninit_bg off, so every bitmap is on disk) the
/// on-disk block bitmaps of groups that hold nothing but their static metadata.
/// </summary>
public class GroupBitmapTests
{
    private static readonly object[] s_csumLayouts =
    [
        new[] { "-O", "metadata_csum,64bit" },
        new[] { "-O", "metadata_csum,^64bit" },
        new[] { "-O", "metadata_csum,64bit,^flex_bg", "-b", "1024" },
        new[] { "-O", "metadata_csum,64bit", "-b", "1024", "-N", "600" },
    ];

    [TestCaseSource(nameof(s_csumLayouts))]
    public void BitmapChecksumsMatchMkfs(string[] mkfs)
    {
        using var img = TestImage.Build(src => File.WriteAllBytes(Path.Combine(src, "f"), new byte[300_000]), "64M", mkfs);
        using var opened = img.Open();
        var v = opened.Volume;
        int descSize = Ext4Volume.DescriptorSize(v.Sb);
        int checkedBlock = 0, checkedInode = 0;
        for (uint g = 0; g < v.Groups.Length; g++)
        {
            var d = RawDescriptor(img, v, g);
            uint storedB = BinaryPrimitives.ReadUInt16LittleEndian(d[GroupDescriptor.bg_block_bitmap_csum_lo..]);
            uint storedI = BinaryPrimitives.ReadUInt16LittleEndian(d[GroupDescriptor.bg_inode_bitmap_csum_lo..]);
            if (descSize >= BitmapChecksum.BlockBitmapCsumHiEnd)
            {
                storedB |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(d[0x38..]) << 16;
            }

            if (descSize >= BitmapChecksum.InodeBitmapCsumHiEnd)
            {
                storedI |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(d[0x3A..]) << 16;
            }

            var gd = v.Groups[g];
            if ((gd.Flags & GroupDescriptor.EXT4_BG_BLOCK_UNINIT) == 0)
            {
                var bitmap = img.ReadImage((long)gd.bg_block_bitmap * v.BlockSize, (int)v.BlockSize);
                uint c = BitmapChecksum.Block(v.CsumSeed, bitmap, v.Sb.s_clusters_per_group);
                Assert.That(BitmapChecksum.Stored(c, descSize, BitmapChecksum.BlockBitmapCsumHiEnd), Is.EqualTo(storedB), $"group {g} block bitmap");
                checkedBlock++;
            }

            if ((gd.Flags & GroupDescriptor.EXT4_BG_INODE_UNINIT) == 0)
            {
                var bitmap = img.ReadImage((long)gd.bg_inode_bitmap * v.BlockSize, (int)v.BlockSize);
                uint c = BitmapChecksum.Inode(v.CsumSeed, bitmap, v.Sb.s_inodes_per_group);
                Assert.That(BitmapChecksum.Stored(c, descSize, BitmapChecksum.InodeBitmapCsumHiEnd), Is.EqualTo(storedI), $"group {g} inode bitmap");
                checkedInode++;
            }
        }

        Assert.That(checkedBlock, Is.GreaterThan(0));
        Assert.That(checkedInode, Is.GreaterThan(0));
    }

    private static readonly object[] s_initLayouts =
    [
        new[] { "-O", "^metadata_csum,^uninit_bg" },
        new[] { "-O", "^metadata_csum,^uninit_bg,^flex_bg" },
        new[] { "-O", "^metadata_csum,^uninit_bg,^flex_bg,^resize_inode", "-b", "1024" },
        new[] { "-O", "^metadata_csum,^uninit_bg,meta_bg,^resize_inode", "-b", "1024" },
        new[] { "-O", "^metadata_csum,^uninit_bg,sparse_super2" },
        new[] { "-t", "ext2", "-O", "^uninit_bg" },
    ];

    /// <summary>
    /// With every bitmap on disk, the computed uninit bitmap of any group is a subset of the
    /// on-disk one (nothing computed as used is free on disk), and for groups whose on-disk
    /// free count equals the computed one the two bitmaps are identical, padding included.
    /// </summary>
    [TestCaseSource(nameof(s_initLayouts))]
    public void ComputedUninitBlockBitmapsMatchMkfsBitmaps(string[] mkfs)
    {
        using var img = TestImage.Build(_ => { }, "200M", mkfs);
        using var opened = img.Open();
        var v = opened.Volume;
        var computed = new byte[v.BlockSize];
        int identical = 0;
        for (uint g = 0; g < v.Groups.Length; g++)
        {
            var gd = v.Groups[g];
            var disk = img.ReadImage((long)gd.bg_block_bitmap * v.BlockSize, (int)v.BlockSize);
            uint free = BlockGroupInit.BuildBlockBitmap(v.Sb, v.MetadataZone, g, computed);
            for (int i = 0; i < computed.Length; i++)
            {
                Assert.That(computed[i] & ~disk[i], Is.Zero, $"group {g} byte {i}: computed used, free on disk");
            }

            if (free == gd.bg_free_blocks_count)
            {
                Assert.That(computed, Is.EqualTo(disk), $"group {g}");
                identical++;
            }
        }

        Assert.That(identical, Is.GreaterThan(v.Groups.Length / 2), "most groups of an empty image hold only static metadata");
    }

    /// <summary>With uninit_bg, every BLOCK_UNINIT group's computed free count is the descriptor's (ext4_free_clusters_after_init).</summary>
    [TestCase("-O", "metadata_csum,64bit")]
    [TestCase("-O", "metadata_csum,^flex_bg")]
    [TestCase("-O", "^metadata_csum,uninit_bg,^flex_bg")]
    public void UninitGroupsFreeCountsMatchTheDescriptors(params string[] mkfs)
    {
        using var img = TestImage.Build(_ => { }, "300M", mkfs);
        using var opened = img.Open();
        var v = opened.Volume;
        var computed = new byte[v.BlockSize];
        int uninit = 0;
        for (uint g = 0; g < v.Groups.Length; g++)
        {
            var gd = v.Groups[g];
            if ((gd.Flags & GroupDescriptor.EXT4_BG_BLOCK_UNINIT) != 0)
            {
                Assert.That(BlockGroupInit.BuildBlockBitmap(v.Sb, v.MetadataZone, g, computed), Is.EqualTo(gd.bg_free_blocks_count), $"group {g}");
                uninit++;
            }
        }

        Assert.That(uninit, Is.GreaterThan(0));
        BlockGroupInit.BuildInodeBitmap(v.Sb, computed);
        Assert.That(Bitmap.CountZeros(computed, computed.Length * 8), Is.EqualTo((int)v.Sb.s_inodes_per_group));
        Assert.That(Bitmap.AllClear(computed, 0, (int)v.Sb.s_inodes_per_group), Is.True);
    }

    /// <summary>The raw descriptor of group <paramref name="g"/> (no meta_bg in these images).</summary>
    private static byte[] RawDescriptor(TestImage img, Ext4Volume v, uint g)
    {
        int descSize = Ext4Volume.DescriptorSize(v.Sb);
        uint perBlock = v.BlockSize / (uint)descSize;
        long block = (SuperblockLayout.Offset / v.BlockSize) + 1 + (g / perBlock);
        return img.ReadImage((block * v.BlockSize) + ((g % perBlock) * descSize), descSize);
    }
}
