using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// File data through a read-write mount, with the kernel as oracle: data-exerciser.py (random
/// writes, reads checked at once against a model, truncates, punches, zero ranges,
/// preallocation, appends, copy_file_range, fsync) runs with one seed on a kernel ext4 mount and
/// on a safe.ext4 mount of copies of one image; both must end with the same bytes. Then fill.py
/// fills each file system to ENOSPC (which must be the error that stops it, with no available
/// blocks left), deletes everything, and the free counts must return exactly; both images must
/// be e2fsck clean.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ReadWriteDataTests
{
    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-rwdata-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => Directory.Delete(_work, recursive: true);

    [TestCase("ext4-4k", 11, "-t", "ext4", "-b", "4096")]
    [TestCase("ext4-1k-nocsum", 12, "-t", "ext4", "-b", "1024", "-O", "^metadata_csum,^64bit")]
    [TestCase("ext3-blockmap", 13, "-t", "ext3", "-b", "4096")]
    public void DataMatchesTheKernelAndFullIsExact(string name, int seed, params string[] mkfs)
    {
        TestEnvironment.RequireMountEnvironment();
        string dir = Path.Combine(_work, name);
        Directory.CreateDirectory(dir);
        string kernelImage = Path.Combine(dir, "kernel.img"), safeImage = Path.Combine(dir, "safe.img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", .. mkfs, "-L", name, kernelImage, "96M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        File.Copy(kernelImage, safeImage);

        string kernel = Run(dir, kernelImage, "ext4", seed, null);
        string safe;
        using (var activator = new SocketActivator(dir))
        {
            safe = Run(dir, safeImage, "safe.ext4", seed, activator);
        }

        TestImages.AssertClean(kernelImage);
        TestImages.AssertClean(safeImage);
        string[] k = kernel.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] s = safe.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(s[0], Does.StartWith("ops="));
        Assert.That(s[0], Is.EqualTo(k[0]), "the same seed leaves the same bytes on both");
        string Field(string[] lines, string prefix) => lines.Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..];
        Assert.That(Field(s, "after "), Is.EqualTo(Field(s, "before ")), "every block and inode the fill took came back (safe.ext4)");
        Assert.That(Field(k, "after "), Is.EqualTo(Field(k, "before ")), "the same holds on the kernel");
    }

    private string Run(string dir, string image, string fstype, int seed, SocketActivator? activator)
    {
        CommandResult r = Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "rw-data.sh"),
             image, Path.Combine(dir, "mnt-" + fstype), Mounts.HelperDir(dir), fstype, seed.ToString(), "4000"],
            TimeSpan.FromMinutes(10), activator?.HelperEnvironment);
        Assert.That(r.ExitCode, Is.Zero, $"{fstype}: {r}\n{(activator is null ? string.Empty : "service log:\n" + activator.Log)}");
        return r.StdOut;
    }
}
