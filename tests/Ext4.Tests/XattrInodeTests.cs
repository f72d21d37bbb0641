using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// ea_inode: xattr values stored in EA inodes, written by the kernel (mkfs -d cannot: the
/// source tree's own file system caps values at one block) and read back by the engine, then
/// damaged one invariant at a time with debugfs (which re-seals checksums) so that each check
/// of <see cref="XattrInodeValues"/> is what trips.
/// </summary>
public class XattrInodeTests
{
    private static readonly (string Name, int Size)[] Values =
    [
        ("user.v30000", 30000),
        ("user.v65536", 65536),             // XATTR_SIZE_MAX, the largest the VFS lets anyone set
        ("user.\u00e9t\u00e9-high-bytes", 9000), // name bytes >= 0x80 (signed/unsigned entry hash differ)
        ("trusted.t20000", 20000),
    ];

    /// <summary>Deterministic content for a value: position-dependent bytes seeded by its size.</summary>
    private static byte[] Content(int size)
    {
        var b = new byte[size];
        new Random(size).NextBytes(b);
        return b;
    }

    private static TestImage BuildWithKernel(params string[] mkfs)
    {
        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("needs root to let the kernel write the image");
        }

        var image = TestImage.Build(_ => { }, "32M", ["-O", "ea_inode", .. mkfs]);
        try
        {
            string mnt = image.Scratch("kmnt");
            Directory.CreateDirectory(mnt);
            var script = new System.Text.StringBuilder($"set -e; mount -o loop '{image.ImagePath}' '{mnt}'; trap 'umount \"{mnt}\"' EXIT; echo data > '{mnt}/f'; mkdir '{mnt}/d'; ");
            foreach (var (name, size) in Values)
            {
                string file = image.Scratch(name + ".bin");
                File.WriteAllBytes(file, Content(size));
                script.Append(SetFromFile(name, file, $"{mnt}/f"));
            }

            // A small value stays in the inode; the same big value on a second inode shares the EA inode.
            script.Append($"setfattr -n user.small -v tiny '{mnt}/f'; ");
            script.Append(SetFromFile("user.v30000", image.Scratch("user.v30000.bin"), $"{mnt}/d"));
            var r = Tool.Run("unshare", ["-m", "--propagation", "private", "bash", "-c", script.ToString()], 120);
            Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
            Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>A shell command setting xattr <paramref name="name"/> of <paramref name="target"/>
    /// to the bytes of <paramref name="file"/> (setfattr's argv cannot carry 64 KiB in hex).</summary>
    private static string SetFromFile(string name, string file, string target) =>
        $"python3 -c 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], open(sys.argv[3], \"rb\").read())' '{target}' '{name}' '{file}'; ";

    /// <summary>The inode number of the EA inode holding <paramref name="name"/> of /f (debugfs's view).</summary>
    private static uint EaInodeOf(TestImage image, string name)
    {
        string stat = Tool.Debugfs(image.ImagePath, "stat /f");
        Assert.That(stat, Does.Contain(name), "debugfs lists the value");
        using var opened = image.Open();
        var v = opened.Volume;
        uint own = PathWalk.Resolve(v, "f");
        // EA inodes carry EXT4_EA_INODE_FL and have no name; find the one whose size matches.
        int size = Values.Single(x => x.Name == name).Size;
        for (uint ino = own + 1; ino < own + 40; ino++)
        {
            var i = v.ReadInode(ino);
            if ((i.Flags & 0x00200000) != 0 && i.Size == size)
            {
                return ino;
            }
        }

        Assert.Fail($"no EA inode of {size} bytes near inode {own}");
        return 0;
    }

    [TestCase("4096", "metadata_csum")]
    [TestCase("1024", "metadata_csum")]
    [TestCase("2048", "^metadata_csum,^extent,^64bit")] // block-mapped EA inodes; value hash still crc32c(uuid seed)
    public void KernelWrittenValuesReadBackExactly(string blockSize, string features)
    {
        using var image = BuildWithKernel("-b", blockSize, "-O", features);
        bool extents = !features.Contains("^extent", StringComparison.Ordinal);
        uint ea = EaInodeOf(image, "user.v65536");
        Assert.That(Tool.Debugfs(image.ImagePath, $"stat <{ea}>"), Does.Contain(extents ? "EXTENTS:" : "BLOCKS:"), "the EA inode maps its data as the layout says");
        using var opened = image.Open();
        var v = opened.Volume;
        Assert.That(v.Warnings, Is.Empty, "ea_inode mounts without a warning");
        var f = PathWalk.Inode(v, "f");
        var names = v.ListXattrNames(f);
        Assert.That(names, Is.EquivalentTo(Values.Select(x => x.Name).Append("user.small")));
        foreach (var (name, size) in Values)
        {
            Assert.That(v.GetXattr(f, name), Is.EqualTo(Content(size)), name);
        }

        Assert.That(v.GetXattr(f, "user.small"), Is.EqualTo("tiny"u8.ToArray()));
        var d = PathWalk.Inode(v, "d");
        Assert.That(v.GetXattr(d, "user.v30000"), Is.EqualTo(Content(30000)), "a shared EA inode");
    }

    [Test]
    public void MissingEaInodeFlagIsCorruption()
    {
        using var image = BuildWithKernel();
        uint ea = EaInodeOf(image, "user.v30000");
        Tool.Check("debugfs", "-w", "-R", $"set_inode_field <{ea}> flags 0x80000", image.ImagePath);
        using var opened = image.Open();
        var f = PathWalk.Inode(opened.Volume, "f");
        var e = Assert.Throws<Ext4CorruptionException>(() => opened.Volume.GetXattr(f, "user.v30000"));
        Assert.That(e!.Message, Does.Contain("EXT4_EA_INODE_FL"));
        Assert.That(opened.Volume.GetXattr(f, "user.v65536"), Is.EqualTo(Content(65536)), "other values still read");
    }

    [Test]
    public void SizeMismatchIsCorruption()
    {
        using var image = BuildWithKernel();
        uint ea = EaInodeOf(image, "user.v65536");
        Tool.Check("debugfs", "-w", "-R", $"set_inode_field <{ea}> size 65535", image.ImagePath);
        using var opened = image.Open();
        var f = PathWalk.Inode(opened.Volume, "f");
        var e = Assert.Throws<Ext4CorruptionException>(() => opened.Volume.GetXattr(f, "user.v65536"));
        Assert.That(e!.Message, Does.Contain("i_size 65535"));
    }

    [Test]
    public void ChangedValueByteFailsTheHash()
    {
        using var image = BuildWithKernel();
        uint ea = EaInodeOf(image, "user.v30000");
        string blocks = Tool.Debugfs(image.ImagePath, $"bmap <{ea}> 3").Trim();
        long physical = long.Parse(blocks.Split('\n')[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        long blockSize;
        using (var before = image.Open())
        {
            blockSize = before.Volume.BlockSize;
        }

        byte[] one = image.ReadImage((physical * blockSize) + 100, 1);
        Assert.That(one, Has.Length.EqualTo(1));
        image.Patch((physical * blockSize) + 100, [(byte)(one[0] ^ 0x5A)]);
        using var opened = image.Open();
        var f = PathWalk.Inode(opened.Volume, "f");
        var e = Assert.Throws<Ext4CorruptionException>(() => opened.Volume.GetXattr(f, "user.v30000"));
        Assert.That(e!.Message, Does.Contain("value hash"));
    }

    [Test]
    public void HoleInTheEaInodeIsCorruption()
    {
        using var image = BuildWithKernel();
        uint ea = EaInodeOf(image, "user.v30000");
        // Punch logical block 2 out of the EA inode's extent tree: the kernel forbids holes there.
        Tool.Check("debugfs", "-w", "-R", $"punch <{ea}> 2 2", image.ImagePath);
        using var opened = image.Open();
        var f = PathWalk.Inode(opened.Volume, "f");
        var e = Assert.Throws<Ext4CorruptionException>(() => opened.Volume.GetXattr(f, "user.v30000"));
        Assert.That(e!.Message, Does.Contain("hole"));
    }

    [Test]
    public void ValueInodeWithoutTheFeatureIsCorruption()
    {
        using var image = BuildWithKernel();
        Tool.Check("debugfs", "-w", "-R", "feature -ea_inode", image.ImagePath);
        using var opened = image.Open();
        var f = PathWalk.Inode(opened.Volume, "f");
        var e = Assert.Throws<Ext4CorruptionException>(() => opened.Volume.ListXattrNames(f));
        Assert.That(e!.Message, Does.Contain("without the ea_inode feature"));
    }

    [Test]
    public void EaInodeWithItsOwnXattrsIsCorruption()
    {
        using var image = BuildWithKernel();
        uint ea = EaInodeOf(image, "user.v30000");
        // check_igot_inode: an EA inode must not carry extended attributes itself.
        Tool.Check("debugfs", "-w", "-R", $"ea_set <{ea}> user.nested x", image.ImagePath);
        using var opened = image.Open();
        var f = PathWalk.Inode(opened.Volume, "f");
        var e = Assert.Throws<Ext4CorruptionException>(() => opened.Volume.GetXattr(f, "user.v30000"));
        Assert.That(e!.Message, Does.Contain("extended attributes of its own"));
    }
}
