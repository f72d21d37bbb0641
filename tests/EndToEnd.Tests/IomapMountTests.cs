using NUnit.Framework;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The iomap= mount option against the running kernel (FUSE-PROTOCOL.md §2.2). On a mainline
/// kernel (this project's 6.18 machines) FUSE_DEV_IOC_IOMAP_SUPPORT answers ENOTTY: iomap=on
/// must fail the mount (exit 32, one line naming the reason, nothing mounted) and iomap=auto
/// must serve through the mainline path. The real iomap round trip runs only on a kernel with
/// fuse-iomap (Darrick Wong's v7 series, fuse.enable_iomap=1) and says why it was skipped otherwise.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class IomapMountTests
{
    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-iomap-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => VariantImages.RemoveWorkDir(_work);

    /// <summary>The kernel's answer to FUSE_DEV_IOC_IOMAP_SUPPORT on a fresh /dev/fuse fd, and
    /// whether it offers file I/O.</summary>
    private static (Errno Rc, bool FileIo) ProbeKernel()
    {
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        Errno rc = FuseIomapInterop.QuerySupport(fuse, out ulong flags);
        return (rc, rc == Errno.None && (flags & fuse_iomap_support.FUSE_IOMAP_SUPPORT_FILEIO) != 0);
    }

    private string Image(string name, bool inlineData = false)
    {
        string tree = Path.Combine(_work, "tree-" + name);
        Directory.CreateDirectory(tree);
        File.WriteAllText(Path.Combine(tree, "hello"), "hello through the mainline path\n");
        return VariantImages.FromTree(_work, name, tree, "32M", inlineData ? ["-O", "inline_data"] : []);
    }

    /// <summary>In a private namespace: mount with OPTIONS, run SCRIPT (with $M the mount point),
    /// unmount; prints "exit=N" for the mount and "mounted=N" (entries for $M left in
    /// /proc/self/mounts after the attempt and the cleanup).</summary>
    private CommandResult MountAndRun(string image, string options, string script, SocketActivator activator)
    {
        string dir = Path.Combine(_work, "mnt");
        Directory.CreateDirectory(dir);
        string body =
            "mount -t overlay overlay -o lowerdir=\"$1\":/usr/sbin /usr/sbin; M=\"$3\"; " +
            "mount -t safe.ext4 -o \"$4\" \"$2\" \"$M\"; rc=$?; echo exit=$rc; " +
            "if [ $rc = 0 ]; then ( eval \"$5\" ); umount \"$M\"; fi; " +
            "echo mounted=$(grep -c \" $M \" /proc/self/mounts)";
        return Command.Run("unshare",
            ["-m", "--propagation", "private", "/bin/bash", "-c", body, "iomap", Mounts.HelperDir(_work), image, dir, options, script],
            TimeSpan.FromSeconds(90), activator.HelperEnvironment);
    }

    [Test]
    public void TheProbeOnThisKernelIsEnottyOrSupported()
    {
        TestEnvironment.RequireMountEnvironment();
        (Errno rc, bool fileIo) = ProbeKernel();
        Assert.That(rc, Is.EqualTo(Errno.ENOTTY).Or.EqualTo(Errno.None), "mainline answers ENOTTY, a fuse-iomap kernel fills fuse_iomap_support");
        if (rc == Errno.ENOTTY)
        {
            // Then every iomap ioctl is unknown to the kernel, ADD_IOMAP included.
            using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
            Assert.That(FuseIomapInterop.AddIomap(fuse), Is.EqualTo(Errno.ENOTTY));
            Assert.That(FuseIomapInterop.SetBlockSize(fuse, 1, 4096), Is.EqualTo(Errno.ENOTTY));
        }
        else
        {
            TestContext.Out.WriteLine($"fuse-iomap kernel: FILEIO {fileIo}");
        }
    }

    [Test]
    public void IomapOnIsRefusedWithTheReasonAndNothingIsMounted()
    {
        TestEnvironment.RequireMountEnvironment();
        (Errno rc, bool fileIo) = ProbeKernel();
        if (rc == Errno.None && fileIo)
        {
            Assert.Ignore("this kernel has fuse-iomap: iomap=on is not refused here");
        }

        string image = Image("refuse-on");
        byte[] before = File.ReadAllBytes(image);
        using var activator = new SocketActivator(_work);
        CommandResult r = MountAndRun(image, "ro,iomap=on", "true", activator);
        Assert.That(r.TimedOut, Is.False, $"mount hung: {r}");
        Assert.That(r.StdOut, Does.Contain("exit=32"), $"{r}\nservice log:\n{activator.Log}");
        Assert.That(r.StdOut, Does.Contain("mounted=0"), "nothing left mounted");
        string[] lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), $"one line on stderr: {r.StdErr}");
        Assert.That(lines[0], Does.StartWith("mount.safe.ext4: "));
        Assert.That(lines[0], Does.Contain("iomap=on"));
        Assert.That(lines[0], Does.Contain(rc == Errno.ENOTTY ? "FUSE_DEV_IOC_IOMAP_SUPPORT: ENOTTY" : "FUSE_DEV_IOC_IOMAP_SUPPORT"), "the message names the reason");
        activator.AssertServicesExit(TimeSpan.FromSeconds(10));
        Assert.That(File.ReadAllBytes(image).AsSpan().SequenceEqual(before), "a refused mount changed the image");
    }

    [TestCase("ro,iomap=auto")]
    [TestCase("ro,iomap=off")]
    [TestCase("ro")]
    public void AutoAndOffServeThroughTheMainlinePath(string options)
    {
        TestEnvironment.RequireMountEnvironment();
        (Errno rc, _) = ProbeKernel();
        if (rc == Errno.None && options != "ro,iomap=off")
        {
            Assert.Ignore("this kernel has fuse-iomap: auto takes it (see RealKernelIomapRoundTrip)");
        }

        string image = Image("auto-" + options.Replace(',', '-').Replace('=', '-'));
        using var activator = new SocketActivator(_work);
        CommandResult r = MountAndRun(image, options, "cat \"$M/hello\"", activator);
        Assert.That(r.StdOut, Does.Contain("exit=0"), $"{r}\nservice log:\n{activator.Log}");
        Assert.That(r.StdOut, Does.Contain("hello through the mainline path"));
        Assert.That(r.StdOut, Does.Contain("mounted=0"));
        Assert.That(r.StdErr, Is.Empty);
        activator.AssertServicesExit(TimeSpan.FromSeconds(10));
        Assert.That(activator.Log, Does.Not.Contain("fuse-iomap: block device registered"), "no iomap on this kernel");
    }

    [Test]
    public void ABadIomapValueIsAUsageError()
    {
        TestEnvironment.RequireMountEnvironment();
        string image = Image("bad-value");
        using var activator = new SocketActivator(_work);
        CommandResult r = MountAndRun(image, "ro,iomap=maybe", "true", activator);
        Assert.That(r.StdOut, Does.Contain("exit=1"), r.ToString());
        Assert.That(r.StdOut, Does.Contain("mounted=0"));
        Assert.That(r.StdErr, Does.Contain("option 'iomap=maybe': takes auto, on or off"));
    }

    /// <summary>
    /// The real fuse-iomap round trip. Runs only on a kernel built with CONFIG_FUSE_IOMAP from the
    /// v7 series and booted with fuse.enable_iomap=1: mount rw with iomap=on, write through the
    /// kernel's iomap path (buffered, direct and into an inline-data file), unmount, then e2fsck
    /// and debugfs check what reached the image.
    /// </summary>
    [Test]
    public void RealKernelIomapRoundTrip()
    {
        TestEnvironment.RequireMountEnvironment();
        (Errno rc, bool fileIo) = ProbeKernel();
        if (rc != Errno.None)
        {
            Assert.Ignore($"FUSE_DEV_IOC_IOMAP_SUPPORT: {rc}{(rc == Errno.ENOTTY ? " (mainline kernel without fuse-iomap)" : string.Empty)}");
        }

        if (!fileIo)
        {
            Assert.Ignore("FUSE_DEV_IOC_IOMAP_SUPPORT: no FUSE_IOMAP_SUPPORT_FILEIO (fuse.enable_iomap=0?)");
        }

        string image = Image("real", inlineData: true);
        using var activator = new SocketActivator(_work);
        string script =
            "head -c 3000000 /dev/urandom > \"$M/buffered\" && " +
            "dd if=/dev/urandom of=\"$M/direct\" bs=1M count=4 oflag=direct status=none && " +
            "printf 'small' > \"$M/inline\" && sync && " +
            "sha256sum \"$M/buffered\" \"$M/direct\" \"$M/inline\" | awk '{print $1}'";
        CommandResult r = MountAndRun(image, "rw,iomap=on", script, activator);
        Assert.That(r.StdOut, Does.Contain("exit=0"), $"{r}\nservice log:\n{activator.Log}");
        Assert.That(r.StdOut, Does.Contain("mounted=0"));
        activator.AssertServicesExit(TimeSpan.FromSeconds(30));
        Assert.That(activator.Log, Does.Contain("fuse-iomap: block device registered"), "the iomap path was taken");
        string[] sums = r.StdOut.Split('\n').Where(l => l.Length == 64).ToArray();
        Assert.That(sums, Has.Length.EqualTo(3), r.StdOut);
        TestImages.AssertClean(image);
        string dump = Path.Combine(_work, "dump");
        foreach ((string name, string sum) in new[] { "buffered", "direct", "inline" }.Zip(sums))
        {
            VariantImages.Debugfs(image, $"dump /{name} {dump}");
            string got = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(dump)));
            Assert.That(got, Is.EqualTo(sum), $"{name} as debugfs reads it");
        }
    }
}
