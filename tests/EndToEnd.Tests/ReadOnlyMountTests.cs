using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The read path end to end: `mount -t safe.ext4` (real mount(8), real helper, real service
/// under systemd-socket-activate, real /dev/fuse) next to the kernel's own ext4 mount of the same
/// image, compared path by path: lstat fields with nanosecond times and btime, content hashes,
/// symlink targets, xattrs, readdir sets, and statfs.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ReadOnlyMountTests
{
    private static readonly ImageLayout[] Layouts =
    [
        new("ext4-default", [], "512M", 20000, true, 42),
        new("ext4-1k-128", ["-b", "1024", "-I", "128"], "256M", 3000, false, 7),
        new("ext4-nocsum-32bit", ["-O", "^metadata_csum,^64bit,uninit_bg"], "256M", 3000, false, 8),
        new("ext3", ["-t", "ext3"], "256M", 3000, false, 9),
        new("ext2", ["-t", "ext2", "-b", "4096"], "256M", 3000, false, 10),
        new("kernel-written", [], "512M", 20000, true, 11, KernelWritten: true),
        new("kernel-written-ext3-1k", ["-t", "ext3", "-b", "1024"], "256M", 3000, false, 12, KernelWritten: true),
    ];

    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir()
    {
        _work = Directory.CreateTempSubdirectory("safemount-e2e-").FullName;
    }

    [OneTimeTearDown]
    public void RemoveWorkDir()
    {
        // Mounts live in private namespaces that are gone by now; only files remain.
        Directory.Delete(_work, recursive: true);
    }

    [Test]
    public void ReadWriteRequestIsServedReadWriteAndChangesNothingByItself()
    {
        TestEnvironment.RequireMountEnvironment();
        string image = TestImages.Build(_work, new ImageLayout("rw-request", [], "64M", 100, false, 5));
        byte[] before = File.ReadAllBytes(image);
        using var activator = new SocketActivator(_work);
        CommandResult r = Mounts.TryMount(image, _work, "defaults", activator);
        Assert.That(r.StdOut, Does.Contain("exit=0"), $"{r}\nservice log:\n{activator.Log}");
        Assert.That(r.StdErr, Does.Not.Contain("read-only"), r.ToString());
        Assert.That(activator.Log, Does.Contain("read-write"));
        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        Assert.That(File.ReadAllBytes(image).SequenceEqual(before), Is.True, "a read-write mount that writes nothing leaves the image as it was");
        TestImages.AssertClean(image);
    }

    [Test]
    public void FeatureTheWritePathLacksIsServedReadOnlyWithAWarning()
    {
        TestEnvironment.RequireMountEnvironment();
        string image = TestImages.Build(_work, new ImageLayout("rw-quota", ["-O", "quota"], "64M", 100, false, 5));
        using var activator = new SocketActivator(_work);
        CommandResult r = Mounts.TryMount(image, _work, "defaults", activator);
        Assert.That(r.StdOut, Does.Contain("exit=0"), $"{r}\nservice log:\n{activator.Log}");
        Assert.That(r.StdErr, Does.Contain("read-only").And.Contain("quota"), r.ToString());
        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        TestImages.AssertClean(image);
    }

    [Test]
    public void BlockDeviceSourceAndFstabLineWork()
    {
        TestEnvironment.RequireMountEnvironment();
        string image = TestImages.Build(_work, new ImageLayout("fstab", [], "64M", 100, false, 6));
        string expected = Command.Bash($"debugfs -R 'cat /files/size-65536' '{image}' 2>/dev/null | sha256sum | cut -d' ' -f1", TimeSpan.FromMinutes(1)).StdOut.Trim();
        Assert.That(expected, Has.Length.EqualTo(64));
        using var activator = new SocketActivator(_work);
        CommandResult r = Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "fstab-and-blockdev.sh"),
             image, Path.Combine(_work, "fstab-mnt"), Mounts.HelperDir(_work), "files/size-65536", expected],
            TimeSpan.FromMinutes(2), activator.HelperEnvironment);
        Assert.That(r.ExitCode, Is.Zero, $"{r}\nservice log:\n{activator.Log}");
        Assert.That(r.StdOut, Does.Contain("block-device ok").And.Contain("fstab ok"));
        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        TestImages.AssertClean(image);
    }

    [TestCaseSource(nameof(Layouts))]
    public void MountShowsWhatTheKernelShows(ImageLayout layout)
    {
        TestEnvironment.RequireMountEnvironment();
        string image = TestImages.Build(_work, layout);
        string output = Path.Combine(_work, layout.Name + ".out");
        using var activator = new SocketActivator(_work);

        CommandResult r = Mounts.CompareInNamespace(image, output, _work, "ro", activator);
        Assert.That(r.ExitCode, Is.Zero, $"compare-mounts.sh: {r}\nservice log:\n{activator.Log}");

        string mountinfo = File.ReadAllText(Path.Combine(output, "mountinfo"));
        Assert.That(mountinfo, Does.Contain(" - fuseblk.safe.ext4 "), mountinfo);
        Assert.That(mountinfo, Does.Match(@"\bro\b.*\bnosuid\b.*\bnodev\b|\bro,nosuid,nodev\b"), mountinfo);

        TreeDump.AssertSame(Path.Combine(output, "kernel.txt"), Path.Combine(output, "safe.txt"));
        Assert.That(File.ReadAllText(Path.Combine(output, "statfs-safe.txt")),
            Is.EqualTo(File.ReadAllText(Path.Combine(output, "statfs-kernel.txt"))), "statfs differs");

        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        TestImages.AssertClean(image);
    }
}
