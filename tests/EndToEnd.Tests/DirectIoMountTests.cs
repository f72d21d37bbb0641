using System.Globalization;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// A real read-write mount uses O_DIRECT for aligned file data (issue 8): the service holds two
/// fds of the loop device, exactly one of them O_DIRECT (/proc/PID/fdinfo flags), logs that direct
/// I/O is on and, at unmount, that the 16 MiB written in 1 MiB blocks went through it; the image
/// is e2fsck clean and the kernel's ext4 reads the same bytes the mount returned. A read-only
/// mount gets no second fd (the hostile-peer and sandbox tests cover the rest).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class DirectIoMountTests
{
    /// <summary>O_DIRECT in /proc/PID/fdinfo "flags:" (octal 040000 on x86-64).</summary>
    private const int ODirect = 0x4000;

    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-dio-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => Directory.Delete(_work, recursive: true);

    [Test]
    public void ReadWriteMountWritesAlignedDataWithODirect()
    {
        TestEnvironment.RequireMountEnvironment();
        string image = Path.Combine(_work, "dio.img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", "-b", "4096", image, "96M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());

        string log;
        using (var activator = new SocketActivator(_work))
        {
            r = Command.Run("unshare",
                ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "direct-io-probe.sh"),
                 image, Path.Combine(_work, "mnt"), Mounts.HelperDir(_work), TestEnvironment.ServicePath],
                TimeSpan.FromMinutes(3), activator.HelperEnvironment);
            Assert.That(r.ExitCode, Is.Zero, $"{r}\nservice log:\n{activator.Log}");
            activator.AssertServicesExit(TimeSpan.FromSeconds(30));
            log = activator.Log;
        }

        string context = $"{r}\nservice log:\n{log}";
        string[] lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int[] flags = lines.Where(l => l.StartsWith("loopfd=", StringComparison.Ordinal))
            .Select(l => Convert.ToInt32(l[(l.IndexOf("flags=", StringComparison.Ordinal) + 6)..], 8)).ToArray();
        Match totals = Totals().Match(log);
        Assert.Multiple(() =>
        {
            Assert.That(flags, Has.Length.EqualTo(2), "the device fd and its O_DIRECT twin; " + context);
            Assert.That(flags.Count(f => (f & ODirect) != 0), Is.EqualTo(1), "exactly one O_DIRECT fd; " + context);
            Assert.That(flags.All(f => (f & 3) == 2), "both open O_RDWR; " + context);
            Assert.That(log, Does.Contain("file data writes use O_DIRECT for aligned ranges"), context);
            Assert.That(log, Does.Not.Contain("direct I/O turned off"), context);
            Assert.That(totals.Success, "the unmount logs the totals; " + context);
        });
        long direct = long.Parse(totals.Groups[1].Value, CultureInfo.InvariantCulture);
        long buffered = long.Parse(totals.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.That(direct, Is.GreaterThanOrEqualTo(16L << 20), "the 16 MiB of aligned writes went direct; " + context);
        Assert.That(buffered, Is.LessThan(1 << 20), "at most the small file's unaligned bytes went through the page cache; " + context);

        TestImages.AssertClean(image);
        string[] hashes = lines.Where(l => l.StartsWith("hash=", StringComparison.Ordinal)).Select(l => l[5..]).Order(StringComparer.Ordinal).ToArray();
        Assert.That(hashes, Has.Length.EqualTo(2), context);
        string mnt = Path.Combine(_work, "mnt-kernel");
        Directory.CreateDirectory(mnt);
        CommandResult k = Command.Run("unshare",
            ["-m", "--propagation", "private", "/bin/bash", "-c",
             "mount -o ro,loop \"$1\" \"$2\" && for f in aligned small; do echo \"$f $(sha256sum < \"$2/$f\" | cut -d' ' -f1)\"; done; umount \"$2\"",
             "kernel", image, mnt],
            TimeSpan.FromMinutes(1));
        Assert.That(k.ExitCode, Is.Zero, k.ToString());
        Assert.That(k.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal), Is.EqualTo(hashes), "the kernel reads what the mount wrote");
    }

    [GeneratedRegex(@"file data written: (\d+) bytes with O_DIRECT, (\d+) bytes through the page cache")]
    private static partial Regex Totals();
}
