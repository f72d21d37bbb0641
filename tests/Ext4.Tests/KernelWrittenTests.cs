using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// Structures only the kernel writes (mkfs -d never makes them): unwritten extents from
/// fallocate, read as zeros around the data written into them.
/// </summary>
public class KernelWrittenTests
{
    [Test]
    public void UnwrittenExtentsReadAsZeros()
    {
        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("needs root to let the kernel write the image");
        }

        // Free blocks hold 0xAA, so an unwritten extent read as data would show it.
        using var image = TestImage.Build(_ => { }, "32M", fill: 0xAA, "-b", "4096");
        string mnt = image.Scratch("kmnt");
        Directory.CreateDirectory(mnt);
        // 1 MiB preallocated (unwritten), then 5 bytes written at 300000 (that block becomes written).
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o loop '{image.ImagePath}' '{mnt}' && fallocate -l 1048576 '{mnt}/pre' && printf HELLO | dd of='{mnt}/pre' bs=1 seek=300000 conv=notrunc status=none && sync; rc=$?; umount '{mnt}' 2>/dev/null; exit $rc"], 120);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        Assert.That(Tool.Debugfs(image.ImagePath, "ex /pre"), Does.Contain("Uninit"), "debugfs sees unwritten extents");

        using var opened = image.Open();
        var v = opened.Volume;
        var f = PathWalk.Inode(v, "pre");
        Assert.That(f.Size, Is.EqualTo(1048576));
        var data = PathWalk.ReadAll(v, f);
        Assert.That(data.AsSpan(300000, 5).ToArray(), Is.EqualTo("HELLO"u8.ToArray()));
        Assert.That(data.Count(b => b != 0), Is.EqualTo(5), "everything else is zeros");
        var onDisk = image.ReadImage(0, 32 << 20);
        Assert.That(onDisk.Count(b => b == 0xAA), Is.GreaterThan(1 << 20), "the garbage is really on disk");
        Assert.That(f.Blocks512, Is.EqualTo(1048576UL / 512), "the blocks are allocated");
    }
}
