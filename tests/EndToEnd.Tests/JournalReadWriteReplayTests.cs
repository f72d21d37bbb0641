using System.Globalization;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// A journal the kernel left dirty (journal-make-dirty.sh: committed, uncheckpointed
/// transactions, needs_recovery) replayed by safemount in a READ-WRITE mount: safe.ext4 mounts
/// the image rw (the service replays onto the device), journal-more-writes.py changes the
/// recovered tree, umount. The oracle is the kernel doing the same on a copy: its own recovery,
/// the same script. Both images must be e2fsck clean, the safe.ext4 image must no longer need
/// recovery, and the kernel must read back from it exactly the tree it has itself (the kernel's
/// pre-crash writes and the script's), up to what two writers legitimately choose differently
/// for the script's new objects: inode numbers, i_generation, block counts, the
/// size of indexed directories, and times each writer stamped from its own clock during the run
/// (mtime, ctime, btime; shown as "now"). Times from before the crash, which only the replay
/// restores, stay compared.
/// safe.ext4 must also read its own image as the kernel does.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class JournalReadWriteReplayTests
{
    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-e2e-jrw-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => Directory.Delete(_work, recursive: true);

    /// <param name="wraps">the kernel's live log wraps past the end of the journal (checked with debugfs logdump).</param>
    [TestCase("jrw-4k", false, new[] { "-b", "4096" })]
    [TestCase("jrw-1k-nocsum-32bit", false, new[] { "-b", "1024", "-O", "^metadata_csum,^64bit" })]
    [TestCase("jrw-1k-tiny-journal", true, new[] { "-b", "1024", "-J", "size=1" })]
    public void KernelJournalIsReplayedByAReadWriteMountThenWrittenOn(string name, bool wraps, string[] mkfs)
    {
        TestEnvironment.RequireMountEnvironment();
        string dir = Path.Combine(_work, name);
        Directory.CreateDirectory(dir);
        string dirty = Path.Combine(dir, "dirty.img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", "-L", name, .. mkfs, dirty, "128M"], TimeSpan.FromMinutes(2));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        r = Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "journal-make-dirty.sh"),
             dirty, Path.Combine(dir, "kmnt"), "23", "1500"],
            TimeSpan.FromMinutes(5));
        Assert.That(r.ExitCode, Is.Zero, $"journal-make-dirty.sh: {r}");
        r = Command.Run("dumpe2fs", ["-h", dirty], TimeSpan.FromMinutes(1));
        Assert.That(r.StdOut, Does.Match(@"Filesystem features:.*needs_recovery"), "the image needs recovery");
        Assert.That(r.StdOut, Does.Match(@"Journal start:\s+[1-9]"), "the journal holds transactions");
        r = Command.Run("debugfs", ["-R", "logdump", dirty], TimeSpan.FromMinutes(1));
        var logBlocks = LogBlock().Matches(r.StdOut).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.That(logBlocks.Zip(logBlocks.Skip(1)).Any(p => p.Second < p.First), Is.EqualTo(wraps), $"the live log wraps past the journal's end:\n{r.StdOut}");
        string kernelCopy = Path.Combine(dir, "kernel.img");
        File.Copy(dirty, kernelCopy);

        string output = Path.Combine(dir, "out");
        long runStart = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        using (var activator = new SocketActivator(dir))
        {
            r = Command.Run("unshare",
                ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "journal-rw-replay.sh"),
                 dirty, kernelCopy, output, Mounts.HelperDir(dir)],
                TimeSpan.FromMinutes(5), activator.HelperEnvironment);
            Assert.That(r.ExitCode, Is.Zero, $"journal-rw-replay.sh: {r}\nservice log:\n{activator.Log}");
            activator.AssertServicesExit(TimeSpan.FromSeconds(15));
            Assert.That(File.ReadAllText(Path.Combine(output, "mount-stderr")), Does.Contain("journal replayed onto the device"),
                $"the rw mount replays onto the device\nservice log:\n{activator.Log}");
        }

        long runEnd = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 2) * 1_000_000_000L;
        Assert.That(File.ReadAllText(Path.Combine(output, "writes-safe.txt")),
            Is.EqualTo(File.ReadAllText(Path.Combine(output, "writes-kernel.txt"))), "the script ran through on both");
        TestImages.AssertClean(dirty);
        TestImages.AssertClean(kernelCopy);
        r = Command.Run("dumpe2fs", ["-h", dirty], TimeSpan.FromMinutes(1));
        Assert.That(r.StdOut, Does.Not.Contain("needs_recovery"), "safe.ext4's rw mount left nothing to recover");
        Assert.That(r.StdOut, Does.Match(@"Filesystem state:\s+clean\n"));

        TreeDump.AssertSame(Path.Combine(output, "safe-written.txt"), Path.Combine(output, "safe-written-safe-read.txt"));
        string kernelTree = File.ReadAllText(Path.Combine(output, "kernel-written.txt"));
        Assert.That(kernelTree, Does.Contain("path=renamed-10 ").And.Contain("path=after/sub/new-19 "), "the replayed and the new names are there");
        File.WriteAllText(Path.Combine(output, "kernel-written.norm"), Normalize(kernelTree, runStart, runEnd));
        File.WriteAllText(Path.Combine(output, "safe-written.norm"),
            Normalize(File.ReadAllText(Path.Combine(output, "safe-written.txt")), runStart, runEnd));
        TreeDump.AssertSame(Path.Combine(output, "kernel-written.norm"), Path.Combine(output, "safe-written.norm"));
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>Drops the writer-specific fields and turns times inside [runStart, runEnd] (ns) into "now".</summary>
    private static string Normalize(string dump, long runStartNs, long runEndNs) =>
        string.Join('\n', dump.Split('\n').Select(l =>
        {
            l = WriterSpecific().Replace(l, string.Empty);
            if (l.Contains(" mode=4", StringComparison.Ordinal))
            {
                l = IndexedDirectorySize().Replace(l, string.Empty);
            }

            return Times().Replace(l, m =>
                long.TryParse(m.Groups["ns"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ns) && ns >= runStartNs && ns <= runEndNs
                    ? $" {m.Groups["f"].Value}=now"
                    : m.Value);
        }));

    /// <summary>Fields two correct writers may choose differently for new objects ("dots" lists inode numbers and runs up to the flags).</summary>
    [GeneratedRegex(@" (ino|generation|blocks|nextents)=\S*| dots=.*?(?= flags=)")]
    private static partial Regex WriterSpecific();

    /// <summary>An indexed directory's size depends on where each writer splits htree leaves (EXT4_INDEX_FL, 0x1000, in flags).</summary>
    [GeneratedRegex(@" size=\d+(?=.* flags=[0-9a-f]*[13579bdf][0-9a-f]{3}\b)")]
    private static partial Regex IndexedDirectorySize();

    [GeneratedRegex(@" (?<f>mtime|ctime|btime)=(?<ns>-?\d+)")]
    private static partial Regex Times();

    /// <summary>A logdump line for one log block; group 1 is its block number in the journal.</summary>
    [GeneratedRegex(@"Found expected sequence \d+, type \d+ \([^)]*\) at block (\d+)")]
    private static partial Regex LogBlock();
}
