using System.Security.Cryptography;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// A kernel-made image with a dirty journal (committed, unreplayed transactions;
/// needs_recovery), served by safe.ext4 read-only: the service replays the journal in memory
/// and must show exactly the tree the kernel shows after its own recovery of a copy, while the
/// image itself stays byte-identical.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class JournalRecoveryTests
{
    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir()
    {
        _work = Directory.CreateTempSubdirectory("safemount-e2e-journal-").FullName;
    }

    [OneTimeTearDown]
    public void RemoveWorkDir()
    {
        Directory.Delete(_work, recursive: true);
    }

    [TestCase("journal-4k", new string[0], "")]
    [TestCase("journal-1k-nocsum-32bit", new[] { "-b", "1024", "-O", "^metadata_csum,^64bit" }, "")]
    [TestCase("journal-async-commit", new string[0], "journal_async_commit,data=writeback")]
    public void DirtyJournalIsReplayedInMemoryAndMatchesTheKernel(string name, string[] mkfs, string mountOptions)
    {
        TestEnvironment.RequireMountEnvironment();
        string dirty = MakeDirtyImage(name, mkfs, mountOptions);
        string before = Sha256(dirty);
        string kernelCopy = Path.Combine(_work, name + ".kernel.img");
        File.Copy(dirty, kernelCopy, overwrite: true);
        string output = Path.Combine(_work, name + ".out");
        using var activator = new SocketActivator(_work);
        CommandResult r = Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "journal-compare.sh"),
             dirty, kernelCopy, output, Mounts.HelperDir(_work)],
            TimeSpan.FromMinutes(5), activator.HelperEnvironment);
        Assert.That(r.ExitCode, Is.Zero, $"journal-compare.sh: {r}\nservice log:\n{activator.Log}");
        Assert.That(File.ReadAllText(Path.Combine(output, "mount-stderr")), Does.Contain("journal replayed into memory"),
            $"the helper reports the replay\nservice log:\n{activator.Log}");

        TreeDump.AssertSame(Path.Combine(output, "kernel.txt"), Path.Combine(output, "safe.txt"));
        Assert.That(File.ReadAllText(Path.Combine(output, "kernel.txt")), Does.Contain("renamed-10"), "the replayed changes are there");
        Assert.That(File.ReadAllText(Path.Combine(output, "statfs-safe.txt")),
            Is.EqualTo(File.ReadAllText(Path.Combine(output, "statfs-kernel.txt"))), "statfs differs");
        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        Assert.That(Sha256(dirty), Is.EqualTo(before), "safe.ext4 never writes the dirty image");
        TestImages.AssertClean(kernelCopy);
    }

    /// <summary>`-o noload` serves the dirty image as it is on disk, exactly as the kernel's
    /// `ro,noload` mount shows it, with a warning, and leaves the image untouched.</summary>
    [Test]
    public void NoloadServesTheUnreplayedImageAsTheKernelDoes()
    {
        TestEnvironment.RequireMountEnvironment();
        // The shutdown-made images of the other tests have their changes checkpointed by
        // umount's writeback, so noload would show the same tree; here the newest changes live
        // only in the journal.
        string clean = Path.Combine(_work, "journal-noload-source.img");
        string dirty = Path.Combine(_work, "journal-noload.img");
        CommandResult made = Command.Run("mkfs.ext4", ["-q", "-F", "-L", "noload", clean, "64M"], TimeSpan.FromMinutes(1));
        Assert.That(made.ExitCode, Is.Zero, made.ToString());
        made = Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "journal-copy-while-mounted.sh"),
             clean, Path.Combine(_work, "journal-noload.kmnt"), dirty],
            TimeSpan.FromMinutes(2));
        Assert.That(made.ExitCode, Is.Zero, $"journal-copy-while-mounted.sh: {made}");
        made = Command.Run("dumpe2fs", ["-h", dirty], TimeSpan.FromMinutes(1));
        Assert.That(made.StdOut, Does.Match(@"Filesystem features:.*needs_recovery"), "the copy needs recovery");
        string before = Sha256(dirty);
        string kernelCopy = Path.Combine(_work, "journal-noload.kernel.img");
        File.Copy(dirty, kernelCopy, overwrite: true);
        string output = Path.Combine(_work, "journal-noload.out");
        using var activator = new SocketActivator(_work);
        CommandResult r = Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "journal-compare.sh"),
             dirty, kernelCopy, output, Mounts.HelperDir(_work), "noload"],
            TimeSpan.FromMinutes(5), activator.HelperEnvironment);
        Assert.That(r.ExitCode, Is.Zero, $"journal-compare.sh noload: {r}\nservice log:\n{activator.Log}");
        Assert.That(File.ReadAllText(Path.Combine(output, "mount-stderr")), Does.Contain("journal not replayed (noload)"),
            $"the helper passes on the warning\nservice log:\n{activator.Log}");
        TreeDump.AssertSame(Path.Combine(output, "kernel.txt"), Path.Combine(output, "safe.txt"));
        Assert.That(File.ReadAllText(Path.Combine(output, "safe.txt")),
            Is.Not.EqualTo(File.ReadAllText(Path.Combine(output, "replayed.txt"))),
            "the journal holds changes, so the noload view must differ from the replayed one");
        Assert.That(File.ReadAllText(Path.Combine(output, "safe.txt")), Does.Not.Contain("journal-only/file-1 "));
        Assert.That(File.ReadAllText(Path.Combine(output, "replayed.txt")), Does.Contain("journal-only/file-20 "));
        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        Assert.That(Sha256(dirty), Is.EqualTo(before), "safe.ext4 never writes the dirty image");
        Assert.That(Sha256(kernelCopy), Is.EqualTo(before), "the kernel's noload mount did not write either");
    }

    private string MakeDirtyImage(string name, string[] mkfs, string mountOptions)
    {
        string dirty = Path.Combine(_work, name + ".img");
        var args = new List<string> { "-q", "-F", "-L", name };
        args.AddRange(mkfs);
        args.AddRange([dirty, "128M"]);
        CommandResult r = Command.Run("mkfs.ext4", args, TimeSpan.FromMinutes(2));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        r = Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "journal-make-dirty.sh"),
             dirty, Path.Combine(_work, name + ".kmnt"), "21", "3000", mountOptions],
            TimeSpan.FromMinutes(5));
        Assert.That(r.ExitCode, Is.Zero, $"journal-make-dirty.sh: {r}");
        r = Command.Run("dumpe2fs", ["-h", dirty], TimeSpan.FromMinutes(1));
        Assert.That(r.StdOut, Does.Match(@"Filesystem features:.*needs_recovery"), "the image needs recovery");
        Assert.That(r.StdOut, Does.Match(@"Journal start:\s+[1-9]"), "the journal holds transactions");

        return dirty;
    }

    private static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f));
    }
}
