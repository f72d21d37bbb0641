using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// kill -9 of the service under a real mounted workload (crash-kill.sh, crash-workload.py): a
/// fresh image is mounted with safe.ext4 read-write through the real helper and a
/// socket-activated service; a seeded workload writes, renames, deletes and fsyncs, logging each
/// fsync that returned, and holds unlinked and O_TMPFILE files open (orphans at the crash, whose
/// release by the recovery mount the service logs); the service is SIGKILLed at a seeded point
/// and the workload then fails with a dead connection. umount must work and leave no mount, loop
/// device or process. Then
///   1. safe.ext4 remounts the crashed image read-write (replaying its journal): every logged
///      fsynced file is there with its logged content; after umount e2fsck -fn is clean;
///   2. the kernel mounts a copy of the crashed image (its own replay), reads the same files
///      correctly, and e2fsck -fn is clean after its umount;
///   3. the two recoveries agree: the tree the kernel reads from its copy equals the tree
///      safe.ext4 read from its own (treedump.py, atime aside).
/// The seed picks the layout (seed % 3: 4 KiB default; 1 KiB with a 1 MiB journal that wraps
/// under the workload; 1 KiB without metadata_csum and 64bit) and the commit interval (every
/// other triple mounts with commit=1, so periodic commits run under the workload besides the
/// fsyncs' commits), and the workload's kill point. CI runs <see cref="CiSeeds"/>;
/// SAFEMOUNT_CRASHKILL_SEEDS selects others ("1-20" or "3,7,9").
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class CrashKillTests
{
    public const string Variable = "SAFEMOUNT_CRASHKILL_SEEDS";

    /// <summary>Four seeds per layout, two of them with commit=1 (about 4 s each).</summary>
    public static readonly int[] CiSeeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

    private static readonly string[][] Layouts =
    [
        ["-b", "4096"],
        ["-b", "1024", "-J", "size=1"],
        ["-b", "1024", "-O", "^metadata_csum,^64bit"],
    ];

    private string _work = string.Empty;

    private static IEnumerable<TestCaseData> Seeds()
    {
        string? spec = Environment.GetEnvironmentVariable(Variable);
        IEnumerable<int> seeds = string.IsNullOrWhiteSpace(spec) ? CiSeeds : Differential.DiffSeeds.Parse(spec);
        return seeds.Select(s => new TestCaseData(s).SetName($"FsyncedFilesSurviveKill9(seed {s})"));
    }

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-crashkill-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => Directory.Delete(_work, recursive: true);

    [TestCaseSource(nameof(Seeds))]
    public void FsyncedFilesSurviveKill9(int seed)
    {
        TestEnvironment.RequireMountEnvironment();
        string[] layout = Layouts[seed % Layouts.Length];
        string options = seed / Layouts.Length % 2 == 1 ? "rw,commit=1" : "rw";
        string dir = Path.Combine(_work, $"seed-{seed}");
        Directory.CreateDirectory(dir);
        string image = Path.Combine(dir, "crashed.img"), kernelCopy = Path.Combine(dir, "kernel.img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", .. layout, "-L", $"crash-{seed}", image, "64M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        string output = Path.Combine(dir, "out");
        using (var activator = new SocketActivator(dir))
        {
            r = Command.Run("unshare",
                ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "crash-kill.sh"),
                 image, kernelCopy, output, Mounts.HelperDir(dir), seed.ToString(), TestEnvironment.ServicePath, options],
                TimeSpan.FromMinutes(3), activator.HelperEnvironment);
            TestContext.Out.WriteLine($"seed {seed}, mkfs {string.Join(' ', layout)}, -o {options}:\n{r.StdOut}{r.StdErr}");
            string header = Path.Combine(output, "crashed-header.txt");
            if (File.Exists(header))
            {
                TestContext.Out.WriteLine("crashed image:\n" + File.ReadAllText(header));
            }

            Assert.That(r.ExitCode, Is.Zero, $"seed {seed}: crash-kill.sh: {r}\nservice log:\n{activator.Log}");
            activator.AssertServicesExit(TimeSpan.FromSeconds(15));
            foreach (string line in activator.Log.Split('\n').Where(l => l.Contains("orphan", StringComparison.Ordinal)))
            {
                TestContext.Out.WriteLine(line.Trim());
            }
        }

        Assert.That(r.StdOut, Does.Match(@"after the kill: (ENOTCONN|ECONNABORTED|EIO)"), "the workload died with the service");
        if (File.ReadAllText(Path.Combine(output, "crashed-header.txt")).Contains("needs_recovery", StringComparison.Ordinal))
        {
            Assert.That(File.ReadAllText(Path.Combine(output, "remount-stderr")), Does.Contain("journal replayed onto the device"),
                "the crash left a live journal, which the read-write remount replays");
        }

        int logged = int.Parse(FsyncedCount().Match(r.StdOut).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(logged, Is.Positive, "some fsyncs returned before the kill");
        Assert.That(r.StdOut, Does.Contain($"safe.ext4: verified {logged} fsynced files, 0 lost"));
        Assert.That(r.StdOut, Does.Contain($"kernel: verified {logged} fsynced files, 0 lost"));
        TestImages.AssertClean(image);
        TestImages.AssertClean(kernelCopy);
        TreeDump.AssertSame(Path.Combine(output, "kernel-recovered.txt"), Path.Combine(output, "safe-recovered.txt"));
        Directory.Delete(dir, recursive: true);
    }

    [GeneratedRegex(@"fsynced files logged: (\d+)")]
    private static partial Regex FsyncedCount();
}
