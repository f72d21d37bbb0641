using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests.Differential;

/// <summary>
/// Seeded differential test of the write path with the kernel as oracle: per seed, one fresh image
/// of the seed's layout is copied twice; difftest-populate.py runs the same random workload
/// through a kernel rw mount of one copy and through a `mount -t safe.ext4 -o rw` mount of the
/// other, in <see cref="Batches"/> batches of steps, and the two mounted trees must be the same
/// after every batch (the test names the first batch that differs). Both images must then be
/// `e2fsck -fn` clean, the kernel must read back from the
/// safe.ext4-written image exactly the tree it wrote itself (up to what legitimately differs
/// between two writers: inode numbers, ctime, btime, i_generation and allocation-dependent block
/// counts), and safe.ext4 must read its own image exactly as the kernel reads it. Layouts the
/// write path serves read-only (bigalloc) or lays out differently (inline_data) are not selected.
/// CI runs <see cref="CiSeeds"/>; SAFEMOUNT_DIFFW_SEEDS selects others (same syntax as SAFEMOUNT_DIFF_SEEDS).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class DifferentialWriteTests
{
    public const string Variable = "SAFEMOUNT_DIFFW_SEEDS";

    /// <summary>How many batches a seed's workload (200..600 steps) is cut into; both trees are compared after each.</summary>
    public const int Batches = 8;

    /// <summary>
    /// Every compared layout once (seed % 12 picks the layout). Not compared: 6 (bigalloc, served
    /// read-only) and 5, 11 (inline_data: the write path moves inline files and directories to a
    /// block on their first change and creates new ones in blocks, where the kernel keeps small
    /// ones inline, so flags, sizes and the in-inode xattr room legitimately differ).
    /// </summary>
    public static readonly int[] CiSeeds = [0, 1, 2, 3, 4, 7, 8, 9, 10];

    /// <summary>Fields two correct writers may legitimately disagree on ("dots" lists inode numbers and runs up to the flags).</summary>
    private static readonly Regex WriterSpecific = new(@" (ino|ctime|btime|generation|blocks|nextents)=\S*| dots=.*?(?= flags=)", RegexOptions.Compiled);

    /// <summary>
    /// An indexed directory's size: how many blocks an htree needs depends on where each writer
    /// splits leaves (the kernel's do_split moves half of a leaf by hash; slack differs), not on
    /// what it holds. Its entries (readdir hash, count) stay compared.
    /// </summary>
    private static readonly Regex IndexedDirectorySize = new(@" size=\d+(?=.* flags=[0-9a-f]*[13579bdf][0-9a-f]{3}\b)", RegexOptions.Compiled);

    /// <summary>mtime in ns.</summary>
    private static readonly Regex Mtime = new(@" mtime=(?<ns>-?\d+)", RegexOptions.Compiled);

    /// <summary>atime and mtime in ns.</summary>
    private static readonly Regex Times = new(@" (?<f>mtime|atime)=(?<ns>-?\d+)", RegexOptions.Compiled);

    private string _work = string.Empty;

    private static IEnumerable<TestCaseData> Seeds()
    {
        string? spec = Environment.GetEnvironmentVariable(Variable);
        IEnumerable<int> seeds = string.IsNullOrWhiteSpace(spec) ? CiSeeds : DiffSeeds.Parse(spec);
        return seeds.Where(s => !DiffLayout.ForSeed(s).Name.Contains("bigalloc") && !DiffLayout.ForSeed(s).Name.Contains("inline"))
            .Select(s => new TestCaseData(s).SetName($"SafeWritesWhatTheKernelWrites(seed {s})"));
    }

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-diffw-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir()
    {
        if (Environment.GetEnvironmentVariable("SAFEMOUNT_DIFF_KEEP") == "1")
        {
            TestContext.Progress.WriteLine($"SAFEMOUNT_DIFF_KEEP=1: images and dumps kept in {_work}");
            return;
        }

        Directory.Delete(_work, recursive: true);
    }

    [TestCaseSource(nameof(Seeds))]
    public void SafeWritesWhatTheKernelWrites(int seed)
    {
        TestEnvironment.RequireMountEnvironment();
        DiffLayout layout = DiffLayout.ForSeed(seed);
        string dir = Path.Combine(_work, $"seed-{seed}");
        Directory.CreateDirectory(dir);
        string kernelImage = Path.Combine(dir, "kernel.img"), safeImage = Path.Combine(dir, "safe.img");
        List<string> mkfs = layout.MkfsArguments(kernelImage);
        CommandResult r = Command.Run("mkfs.ext4", mkfs, TimeSpan.FromMinutes(2));
        Assert.That(r.ExitCode, Is.Zero, $"mkfs.ext4: {r}");
        if (layout.Tune2fs.Length > 0)
        {
            r = Command.Run("tune2fs", [.. layout.Tune2fs, kernelImage], TimeSpan.FromMinutes(1));
            Assert.That(r.ExitCode, Is.Zero, $"tune2fs: {r}");
        }

        File.Copy(kernelImage, safeImage);
        long liveMaxSeconds = MaxTimestampSeconds(kernelImage);
        string output = Path.Combine(dir, "out");
        long runStart = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5) * 1_000_000_000L;
        using (var activator = new SocketActivator(dir))
        {
            r = Command.Run("unshare",
                ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "write-compare.sh"),
                 kernelImage, safeImage, output, Mounts.HelperDir(dir), seed.ToString(), Batches.ToString()],
                TimeSpan.FromMinutes(10), activator.HelperEnvironment);
            string serviceLog = activator.Log;
            long batchesEnd = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5) * 1_000_000_000L;
            string batchLog = File.Exists(Path.Combine(output, "batches.txt")) ? File.ReadAllText(Path.Combine(output, "batches.txt")) : "(no batches.txt)";

            // The first batch after which the mounted trees differ fails the test, even if a later
            // batch then failed outright (a divergence usually explains the failure).
            for (int batch = 0; batch < Batches; batch++)
            {
                string k = Path.Combine(output, $"batch-{batch:D2}-kernel.txt"), s = Path.Combine(output, $"batch-{batch:D2}-safe.txt");
                if (!File.Exists(k) || !File.Exists(s))
                {
                    break;
                }

                File.WriteAllLines(s, ClampRegularFileMtimes(File.ReadAllLines(s), liveMaxSeconds));
                AssertSameTrees(k, s, runStart, batchesEnd, $"seed {seed} (layout {layout.Name}): the mounted trees differ after batch {batch + 1} of {Batches} (batches.txt:\n{batchLog})");
            }

            Assert.That(r.ExitCode, Is.Zero, $"seed {seed} (layout {layout.Name}): write-compare.sh: {r}\nbatches.txt:\n{batchLog}\nservice log:\n{serviceLog}");
            Assert.That(batchLog.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(Batches), "every batch ran and was compared");
            activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        }

        Assert.That(File.ReadAllText(Path.Combine(output, "mountinfo-rw")), Does.Contain(" rw,"), "served read-write");
        Assert.That(File.ReadAllText(Path.Combine(output, "populate-safe.txt")),
            Is.EqualTo(File.ReadAllText(Path.Combine(output, "populate-kernel.txt"))), "the workload took the same path on both (same refusals)");
        TestImages.AssertClean(safeImage);
        TestImages.AssertClean(kernelImage);
        TreeDump.AssertSame(Path.Combine(output, "safe-written.txt"), Path.Combine(output, "safe-written-safe-read.txt"));
        long runEnd = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5) * 1_000_000_000L;
        AssertSameTrees(Path.Combine(output, "kernel-written.txt"), Path.Combine(output, "safe-written.txt"), runStart, runEnd,
            $"seed {seed} (layout {layout.Name}): the kernel reads back different trees from the two images");
        if (Environment.GetEnvironmentVariable("SAFEMOUNT_DIFF_KEEP") != "1")
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Compares two dumps up to what two correct writers may disagree on: writes the normalized
    /// dumps next to them (*.norm) and compares those.
    /// </summary>
    private static void AssertSameTrees(string kernelDump, string safeDump, long runStartNs, long runEndNs, string what)
    {
        string kernelTree = Normalize(kernelDump, runStartNs, runEndNs);
        string safeTree = Normalize(safeDump, runStartNs, runEndNs);

        // Reads update atime in the kernel (relatime) but not through FUSE: the kernel never tells
        // the server about atime, and cached reads never reach it. An atime the kernel stamped
        // during the run is therefore not compared.
        kernelTree = ForgiveReadAtime(kernelTree, ref safeTree);
        string kernelNorm = Path.ChangeExtension(kernelDump, ".norm"), safeNorm = Path.ChangeExtension(safeDump, ".norm");
        File.WriteAllText(kernelNorm, kernelTree);
        File.WriteAllText(safeNorm, safeTree);
        TreeDump.AssertSame(kernelNorm, safeNorm, what);
    }

    /// <summary>
    /// The kernel's ext4 s_time_max: S32_MAX for 128-byte inodes (no *_extra fields), else
    /// EXT4_EXTRA_TIMESTAMP_MAX (2^34 - 1 + S32_MIN, fs/ext4/ext4.h). s_inode_size is the u16 at
    /// superblock offset 0x58.
    /// </summary>
    private static long MaxTimestampSeconds(string image)
    {
        using FileStream f = File.OpenRead(image);
        byte[] sizeField = new byte[2];
        f.Position = 1024 + 0x58;
        f.ReadExactly(sizeField);
        return BitConverter.ToUInt16(sizeField) == 128 ? int.MaxValue : (1L << 34) - 1 + int.MinValue;
    }

    /// <summary>
    /// Under the writeback cache the kernel's FUSE layer owns a regular file's mtime: it keeps the
    /// time utimensat gave, truncated by the VFS's timestamp_truncate to the FUSE superblock's
    /// range (time64, as FUSE_INIT carries only a granularity), where ext4 clamps to
    /// [S32_MIN, s_time_max] and drops the ns at either end. The service stores ext4's value (the
    /// final kernel read-back of the image compares it), but the mounted tree shows the unclamped
    /// one until the inode leaves the cache: this applies ext4's clamp to the safe.ext4 mount's
    /// regular-file mtimes before the per-batch comparison.
    /// </summary>
    private static IEnumerable<string> ClampRegularFileMtimes(string[] lines, long maxSeconds) =>
        lines.Select(l => !l.Contains(" mode=100", StringComparison.Ordinal) ? l : Mtime.Replace(l, m =>
        {
            Int128 ns = Int128.Parse(m.Groups["ns"].Value, System.Globalization.CultureInfo.InvariantCulture);
            Int128 seconds = ns >= 0 ? ns / 1_000_000_000 : ((ns + 1) / 1_000_000_000) - 1;
            Int128 clamped = seconds <= int.MinValue ? (Int128)int.MinValue * 1_000_000_000
                : seconds >= maxSeconds ? (Int128)maxSeconds * 1_000_000_000 : ns;
            return $" mtime={clamped}";
        }));

    /// <summary>Where the kernel's line says atime=now and ours another value, both become atime=read.</summary>
    private static string ForgiveReadAtime(string kernelTree, ref string safeTree)
    {
        string[] k = kernelTree.Split('\n');
        string[] s = safeTree.Split('\n');
        if (k.Length != s.Length)
        {
            return kernelTree;
        }

        for (int i = 0; i < k.Length; i++)
        {
            if (k[i] != s[i] && k[i].Contains(" atime=now", StringComparison.Ordinal))
            {
                string safeLine = Times.Replace(s[i], m => m.Groups["f"].Value == "atime" ? " atime=read" : m.Value);
                string kernelLine = k[i].Replace(" atime=now", " atime=read", StringComparison.Ordinal);
                if (safeLine == kernelLine)
                {
                    k[i] = kernelLine;
                    s[i] = safeLine;
                }
            }
        }

        safeTree = string.Join('\n', s);
        return string.Join('\n', k);
    }

    /// <summary>
    /// Drops the writer-specific fields and replaces atime/mtime values stamped during the run
    /// (the clock of each writer, not a time the workload chose) by "now"; the workload's own
    /// times (utime with random ns values far from today) stay compared.
    /// </summary>
    private static string Normalize(string dumpPath, long runStartNs, long runEndNs) =>
        string.Join('\n', File.ReadAllLines(dumpPath).Select(l =>
        {
            l = WriterSpecific.Replace(l, string.Empty);
            if (l.Contains(" mode=4", StringComparison.Ordinal))
            {
                l = IndexedDirectorySize.Replace(l, string.Empty);
            }

            return Times.Replace(l, m =>
            {
                // Times past 2262 do not fit a long of nanoseconds; they are never "now".
                bool now = long.TryParse(m.Groups["ns"].Value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long ns)
                    && ns >= runStartNs && ns <= runEndNs;
                return now ? $" {m.Groups["f"].Value}=now" : m.Value;
            });
        })) + "\n";
}
