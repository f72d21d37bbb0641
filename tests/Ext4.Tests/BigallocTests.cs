using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>bigalloc (clusters of several blocks): readable, forced read-only, statfs in blocks as the kernel reports it.</summary>
public class BigallocTests
{
    [Test]
    public void ReadsAndReportsLikeTheKernel([Values(1024, 4096)] int blockSize)
    {
        using var image = TestImage.Build(src => SourceTree.Populate(src, blockSize), "256M",
            "-b", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "-O", "bigalloc", "-C", (blockSize * 16).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var opened = image.Open();
        var v = opened.Volume;
        Assert.That(v.IsReadOnly, Is.True);
        Assert.That(v.Warnings, Is.EqualTo(new[] { "unsupported ro_compat feature bigalloc, mounted read-only" }));

        foreach (var rel in SourceTree.Walk(image.SourcePath))
        {
            string path = Path.Combine(image.SourcePath, rel);
            var fi = new FileInfo(path);
            if (rel == SourceTree.SparseName || !SourceTree.IsRegularFile(path))
            {
                continue;
            }

            Assert.That(PathWalk.ReadAll(v, PathWalk.Inode(v, rel)), Is.EqualTo(File.ReadAllBytes(path)), rel);
        }

        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("needs root for the kernel's statfs");
        }

        string mnt = image.Scratch("kmnt");
        Directory.CreateDirectory(mnt);
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o ro,loop '{image.ImagePath}' '{mnt}' && stat -f -c '%b %f %a %c %d' '{mnt}'; rc=$?; umount '{mnt}' 2>/dev/null; exit $rc"], 120);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        var k = r.Stdout.Trim().Split(' ').Select(ulong.Parse).ToArray();
        var s = v.StatFs();
        Assert.That(new[] { s.Blocks, s.FreeBlocks, s.AvailableBlocks, s.Files, s.FreeFiles }, Is.EqualTo(k), "f_blocks f_bfree f_bavail f_files f_ffree");
    }
}
