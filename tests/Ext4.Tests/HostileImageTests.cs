using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Mutation;
using Safemount.Ext4.Tests.Support;
using D = Safemount.Ext4.Format.DirEntryLayout;
using L = Safemount.Ext4.Format.InodeLayout;
using S = Safemount.Ext4.Format.SuperblockLayout;
using X = Safemount.Ext4.Format.ExtentLayout;

namespace Safemount.Ext4.Tests;

/// <summary>
/// Regression tests for the engine bugs the mutation harness found, one per class, each on
/// the harness's metadata_csum base image with every checksum re-sealed so only the
/// structural check can catch the damage.
/// </summary>
public class HostileImageTests
{
    private static BaseLayout Csum => BaseLayout.All.Single(l => l.Name == "csum-4k");

    private static Ext4Volume OpenSealed(MutatedImage img)
    {
        ChecksumFixer.Fix(img);
        return Ext4Volume.Open(img, new Ext4OpenOptions());
    }

    private static InodeFacts File(BaseImage b, string name)
    {
        using var v = Ext4Volume.Open(new MemoryBlockDevice(b.Bytes), new Ext4OpenOptions());
        return b.Inodes[PathWalk.Resolve(v, name)];
    }

    [TestCase(1u)]
    [TestCase(7u)]
    [TestCase(8u)]
    public void ANameForAReservedInodeIsCorruption(uint reserved)
    {
        var b = BaseImage.Get(Csum);
        var root = b.Regions.First(r => r.Kind == RegionKind.DirLeaf && r.Owner == PathWalk.RootIno && r.Index == 0);
        int at = Mutator.DirentOffsets(b.Bytes, root).First(o => Encoding.ASCII.GetString(b.Bytes, (int)root.Offset + o + D.name, b.Bytes[root.Offset + o + D.name_len]) == "file3");
        var img = new MutatedImage(b);
        img.W32(root.Offset + at + D.inode, reserved);
        using var v = OpenSealed(img);
        var dir = v.ReadInode(PathWalk.RootIno);
        var e = Assert.Throws<Ext4CorruptionException>(() => v.Lookup(dir, "file3"u8))!;
        Assert.That(e.Message, Does.Contain($"reserved or invalid inode {reserved}"));
        Assert.That(v.ReadDirectory(dir).Any(d => d.Inode == reserved), Is.True, "readdir still lists it, as the kernel's does");
        Assert.That(v.Lookup(dir, "a"u8), Is.Not.Zero, "other names still resolve");
    }

    [Test]
    public void AFirstInodeBelowElevenIsRefused()
    {
        var img = new MutatedImage(BaseImage.Get(Csum));
        img.W32(S.Offset + S.s_first_ino, 3);
        var e = Assert.Throws<Ext4MountException>(() => OpenSealed(img))!;
        Assert.That(e.Message, Is.EqualTo("invalid first inode 3"));
    }

    [Test]
    public void AnXattrNameWithANulIsCorruption()
    {
        var b = BaseImage.Get(Csum);
        var block = b.OfKind(RegionKind.XattrBlock).First();
        var img = new MutatedImage(b);
        long entry = block.Offset + XattrLayout.BlockHeaderSize;
        Assert.That(img[entry + XattrLayout.e_name_len], Is.GreaterThan(1), "a named entry");
        img[entry + XattrLayout.e_name] = 0;
        using var v = OpenSealed(img);
        var inode = v.ReadInode(block.Owner);
        var e = Assert.Throws<Ext4CorruptionException>(() => v.ListXattrNames(inode))!;
        Assert.That(e.Message, Does.Contain("NUL in its name"));
    }

    /// <summary>The extent index of a depth-1 file pointing at the inode table (its root's parent): refused by the system zone, not parsed as an extent block.</summary>
    [Test]
    public void AnExtentIndexIntoTheInodeTableIsRefused()
    {
        var b = BaseImage.Get(Csum);
        var leaf = b.OfKind(RegionKind.ExtentBlock).First();
        var f = b.Inodes[leaf.Owner];
        var img = new MutatedImage(b);
        long index = f.Offset + L.i_block + X.EntrySize;
        img.W32(index + X.ei_leaf_lo, (uint)(f.Offset / b.BlockSize));
        using var v = OpenSealed(img);
        var inode = v.ReadInode(f.Ino);
        var e = Assert.Throws<Ext4CorruptionException>(() => v.Read(inode, 0, new byte[4096]))!;
        Assert.That(e.Message, Does.Contain("system zone"));
    }

    [Test]
    public void AnInodeTableOverTheDescriptorsIsRefused()
    {
        var b = BaseImage.Get(Csum);
        var gdt = b.OfKind(RegionKind.GroupDescriptors).First(r => r.Index == 0);
        var img = new MutatedImage(b);
        img.W32(gdt.Offset + GroupDescriptor.bg_inode_table_lo, (uint)gdt.Block);
        var e = Assert.Throws<Ext4MountException>(() => OpenSealed(img))!;
        Assert.That(e.Message, Is.EqualTo($"group 0: inode table at block {gdt.Block} overlaps the superblock or group descriptors"));
    }

    /// <summary>Without flex_bg (ext2 here) each group's bitmaps live in the group itself.</summary>
    [Test]
    public void ABitmapOutsideItsGroupIsRefused()
    {
        var b = BaseImage.Get(BaseLayout.All.Single(l => l.Name == "ext2-1k-128"));
        var gdt = b.OfKind(RegionKind.GroupDescriptors).First(r => r.Index == 0);
        ulong elsewhere = b.OfKind(RegionKind.BlockBitmap).First().Block; // group 0's bitmap
        var img = new MutatedImage(b);
        img.W32(gdt.Offset + GroupDescriptor.Size32 + GroupDescriptor.bg_block_bitmap_lo, (uint)elsewhere); // group 1's
        var e = Assert.Throws<Ext4MountException>(() => OpenSealed(img))!;
        Assert.That(e.Message, Does.StartWith($"group 1: block bitmap at block {elsewhere} is not in its group"));
    }

    [TestCase((ushort)0x0000)]
    [TestCase((ushort)0x3000)]
    [TestCase((ushort)0xF000)]
    public void AnInodeOfNoFileTypeIsCorruption(ushort type)
    {
        var b = BaseImage.Get(Csum);
        var f = File(b, "file3");
        var img = new MutatedImage(b);
        img.W16(f.Offset + L.i_mode, (ushort)(type | 0x1A4));
        using var v = OpenSealed(img);
        var e = Assert.Throws<Ext4CorruptionException>(() => v.ReadInode(f.Ino))!;
        Assert.That(e.Message, Is.EqualTo($"inode {f.Ino}: bogus i_mode 0{Convert.ToString(type | 0x1A4, 8)}"));
    }

    /// <summary>
    /// One valid directory block mapped 65,793 times (ext2, through a double-indirect block) or
    /// four times (extents): found by the harness as an 860 MB walk of an 8 MiB image.
    /// </summary>
    [TestCase("ext2-1k-128")]
    [TestCase("csum-4k")]
    public void ADirectoryBlockMappedTwiceIsCorruption(string layout)
    {
        var b = BaseImage.Get(BaseLayout.All.Single(l => l.Name == layout));
        var img = new MutatedImage(b);
        Assert.That(HostileConstructions.All.Single(c => c.Name == "dir-block-repeated").Apply(img, new Random(1)), Is.True);
        using var v = OpenSealed(img);
        var root = v.ReadInode(PathWalk.RootIno);
        var e = Assert.Throws<Ext4CorruptionException>(() => v.ReadDirectory(root))!;
        Assert.That(e.Message, Does.Contain("is mapped twice"));
        Assert.Throws<Ext4CorruptionException>(() => v.Lookup(root, "surely-absent"u8));
    }

    /// <summary>
    /// An empty in-inode xattr value whose e_value_offs points past the inode (found by the
    /// harness on inline_data: inline data's empty "system.data" value, one bit flipped in its
    /// offset, made Read throw ArgumentOutOfRangeException). The kernel ignores the offset of
    /// an empty value; so does the engine now.
    /// </summary>
    [Test]
    public void AnEmptyXattrValueFarAwayIsJustEmpty()
    {
        var b = BaseImage.Get(BaseLayout.All.Single(l => l.Name == "inline-4k"));
        var f = File(b, "inline-small");
        Assert.That(f.IsInline, Is.True);
        long entry = f.Offset + L.GoodOldInodeSize + BitConverter.ToUInt16(b.Bytes, (int)f.Offset + L.i_extra_isize) + XattrLayout.IbodyHeaderSize;
        Assert.That(BitConverter.ToUInt32(b.Bytes, (int)entry + XattrLayout.e_value_size), Is.Zero, "system.data is empty for a 15-byte file");
        var img = new MutatedImage(b);
        img.W16(entry + XattrLayout.e_value_offs, 0xFFF0);
        using var v = OpenSealed(img);
        var inode = v.ReadInode(f.Ino);
        var buffer = new byte[100];
        Assert.That(v.Read(inode, 0, buffer), Is.EqualTo(15));
        Assert.That(Encoding.ASCII.GetString(buffer, 0, 15), Is.EqualTo("fits in i_block"));
        Assert.That(v.ListXattrNames(inode), Is.Empty);
    }
}
