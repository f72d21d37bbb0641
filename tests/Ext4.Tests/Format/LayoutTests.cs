using Safemount.Ext4.Format;

namespace Safemount.Ext4.Tests.Format;

/// <summary>Pins on-disk offsets and sizes against linux fs/ext4/ext4.h and ext4_extents.h.</summary>
public class LayoutTests
{
    [Test]
    public void SuperblockOffsets()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SuperblockLayout.Offset, Is.EqualTo(1024));
            Assert.That(SuperblockLayout.Size, Is.EqualTo(1024));
            Assert.That(SuperblockLayout.s_inodes_count, Is.EqualTo(0x00));
            Assert.That(SuperblockLayout.s_log_block_size, Is.EqualTo(0x18));
            Assert.That(SuperblockLayout.s_inodes_per_group, Is.EqualTo(0x28));
            Assert.That(SuperblockLayout.s_magic, Is.EqualTo(0x38));
            Assert.That(SuperblockLayout.s_rev_level, Is.EqualTo(0x4C));
            Assert.That(SuperblockLayout.s_inode_size, Is.EqualTo(0x58));
            Assert.That(SuperblockLayout.s_feature_compat, Is.EqualTo(0x5C));
            Assert.That(SuperblockLayout.s_feature_incompat, Is.EqualTo(0x60));
            Assert.That(SuperblockLayout.s_feature_ro_compat, Is.EqualTo(0x64));
            Assert.That(SuperblockLayout.s_uuid, Is.EqualTo(0x68));
            Assert.That(SuperblockLayout.s_volume_name, Is.EqualTo(0x78));
            Assert.That(SuperblockLayout.s_journal_inum, Is.EqualTo(0xE0));
            Assert.That(SuperblockLayout.s_hash_seed, Is.EqualTo(0xEC));
            Assert.That(SuperblockLayout.s_def_hash_version, Is.EqualTo(0xFC));
            Assert.That(SuperblockLayout.s_desc_size, Is.EqualTo(0xFE));
            Assert.That(SuperblockLayout.s_blocks_count_hi, Is.EqualTo(0x150));
            Assert.That(SuperblockLayout.s_flags, Is.EqualTo(0x160));
            Assert.That(SuperblockLayout.s_log_groups_per_flex, Is.EqualTo(0x174));
            Assert.That(SuperblockLayout.s_checksum_type, Is.EqualTo(0x175));
            Assert.That(SuperblockLayout.s_overhead_clusters, Is.EqualTo(0x248));
            Assert.That(SuperblockLayout.s_checksum_seed, Is.EqualTo(0x270));
            Assert.That(SuperblockLayout.s_checksum, Is.EqualTo(0x3FC));
            Assert.That(SuperblockLayout.s_checksum + 4, Is.EqualTo(SuperblockLayout.Size), "s_checksum is the last field");
        });
    }

    [Test]
    public void GroupDescriptorOffsets()
    {
        Assert.Multiple(() =>
        {
            Assert.That(GroupDescriptor.Size32, Is.EqualTo(32));
            Assert.That(GroupDescriptor.MinSize64, Is.EqualTo(64));
            Assert.That(GroupDescriptor.bg_inode_table_lo, Is.EqualTo(0x08));
            Assert.That(GroupDescriptor.bg_flags, Is.EqualTo(0x12));
            Assert.That(GroupDescriptor.bg_itable_unused_lo, Is.EqualTo(0x1C));
            Assert.That(GroupDescriptor.bg_checksum + 2, Is.EqualTo(GroupDescriptor.Size32), "bg_checksum ends the 32-byte descriptor");
            Assert.That(GroupDescriptor.bg_block_bitmap_hi, Is.EqualTo(0x20));
            Assert.That(GroupDescriptor.bg_inode_table_hi, Is.EqualTo(0x28));
            Assert.That(GroupDescriptor.bg_itable_unused_hi, Is.EqualTo(0x32));
        });
    }

    [Test]
    public void InodeOffsets()
    {
        Assert.Multiple(() =>
        {
            Assert.That(InodeLayout.i_mode, Is.EqualTo(0x00));
            Assert.That(InodeLayout.i_size_lo, Is.EqualTo(0x04));
            Assert.That(InodeLayout.i_links_count, Is.EqualTo(0x1A));
            Assert.That(InodeLayout.i_flags, Is.EqualTo(0x20));
            Assert.That(InodeLayout.i_block, Is.EqualTo(0x28));
            Assert.That(InodeLayout.i_block + InodeLayout.IBlockSize, Is.EqualTo(InodeLayout.i_generation));
            Assert.That(InodeLayout.i_file_acl_lo, Is.EqualTo(0x68));
            Assert.That(InodeLayout.i_size_high, Is.EqualTo(0x6C));
            Assert.That(InodeLayout.l_i_blocks_high, Is.EqualTo(0x74));
            Assert.That(InodeLayout.l_i_checksum_lo, Is.EqualTo(0x7C));
            Assert.That(InodeLayout.l_i_reserved + 2, Is.EqualTo(InodeLayout.GoodOldInodeSize));
            Assert.That(InodeLayout.i_extra_isize, Is.EqualTo(0x80));
            Assert.That(InodeLayout.i_checksum_hi, Is.EqualTo(0x82));
            Assert.That(InodeLayout.i_crtime, Is.EqualTo(0x90));
            Assert.That(InodeLayout.i_projid + 4, Is.EqualTo(InodeLayout.LargeInodeEnd));
            Assert.That(InodeLayout.LargeInodeEnd, Is.EqualTo(160));
        });
    }

    [Test]
    public void ExtentStructuresAre12Bytes()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ExtentLayout.EntrySize, Is.EqualTo(12));
            Assert.That(ExtentLayout.eh_generation + 4, Is.EqualTo(12), "header");
            Assert.That(ExtentLayout.ee_start_lo + 4, Is.EqualTo(12), "extent");
            Assert.That(ExtentLayout.ei_unused + 2, Is.EqualTo(12), "index");
            Assert.That(ExtentLayout.EXT4_EXT_MAGIC, Is.EqualTo(0xF30A));
            Assert.That((InodeLayout.IBlockSize - ExtentLayout.EntrySize) / ExtentLayout.EntrySize, Is.EqualTo(4), "root capacity");
        });
    }

    [Test]
    public void DirentAndHtreeLayout()
    {
        Assert.Multiple(() =>
        {
            Assert.That(DirEntryLayout.name, Is.EqualTo(8));
            Assert.That(DirEntryLayout.RecLen(1), Is.EqualTo(12));
            Assert.That(DirEntryLayout.RecLen(2), Is.EqualTo(12));
            Assert.That(DirEntryLayout.RecLen(5), Is.EqualTo(16));
            Assert.That(DirEntryLayout.RecLen(255), Is.EqualTo(264));
            Assert.That(DirEntryLayout.det_checksum + 4, Is.EqualTo(DirEntryLayout.TailSize));
            Assert.That(DirEntryLayout.dx_root_info, Is.EqualTo(24), "after the fake . and .. entries");
            Assert.That(DirEntryLayout.dx_root_info + DirEntryLayout.DxRootInfoSize, Is.EqualTo(0x20));
            Assert.That(DirEntryLayout.DxEntrySize, Is.EqualTo(8));
        });
    }

    [Test]
    public void XattrLayout()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Ext4.Format.XattrLayout.BlockHeaderSize, Is.EqualTo(32));
            Assert.That(Ext4.Format.XattrLayout.e_name, Is.EqualTo(16));
            Assert.That(Ext4.Format.XattrLayout.EntryLen(1), Is.EqualTo(20));
            Assert.That(Ext4.Format.XattrLayout.EntryLen(4), Is.EqualTo(20));
            Assert.That(Ext4.Format.XattrLayout.EntryLen(5), Is.EqualTo(24));
        });
    }

    [Test]
    public void FeatureNames()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Ext4Features.IncompatNames(0x10000), Is.EqualTo("encrypt"));
            Assert.That(Ext4Features.IncompatNames(0x80000000), Is.EqualTo("0x80000000"));
            Assert.That(Ext4Features.IncompatNames(0x0400 | 0x20000), Is.EqualTo("ea_inode casefold"));
            Assert.That(Ext4Features.RoCompatNames(0x0400), Is.EqualTo("metadata_csum"));
            Assert.That(Ext4Features.CompatNames(0x0004), Is.EqualTo("has_journal"));
        });
    }
}
