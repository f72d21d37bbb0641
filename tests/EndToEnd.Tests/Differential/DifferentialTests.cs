using System.Security.Cryptography;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests.Differential;

/// <summary>
/// Seeded differential test with the kernel as oracle: per seed, difftest-populate.py chooses a
/// layout and performs a random workload through a kernel rw loop mount; the image (which
/// `e2fsck -fn` must call clean) is then mounted read-only by the kernel and by
/// `mount -t safe.ext4`, and compare-mounts.sh dumps both trees path by path (lstat fields with
/// ns times and btime, content hashes, symlink targets, xattrs, readdir sets) and statfs.
/// Reading must not change the image (sha256 before and after) nor make e2fsck unhappy.
/// CI runs <see cref="DiffSeeds.CiSeeds"/>; SAFEMOUNT_DIFF_SEEDS selects others.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class DifferentialTests
{
    private string _work = string.Empty;

    private static IEnumerable<TestCaseData> Seeds() =>
        DiffSeeds.Selected().Select(s => new TestCaseData(s).SetName($"KernelAndSafeMountAgree(seed {s})"));

    [OneTimeSetUp]
    public void CreateWorkDir()
    {
        _work = Directory.CreateTempSubdirectory("safemount-diff-").FullName;
    }

    /// <summary>SAFEMOUNT_DIFF_KEEP=1 keeps every seed's image and dumps for inspection.</summary>
    private static bool Keep => Environment.GetEnvironmentVariable("SAFEMOUNT_DIFF_KEEP") == "1";

    [OneTimeTearDown]
    public void RemoveWorkDir()
    {
        // Mounts live in private namespaces that are gone by now; only files remain.
        if (Keep)
        {
            TestContext.Progress.WriteLine($"SAFEMOUNT_DIFF_KEEP=1: images and dumps kept in {_work}");
            return;
        }

        Directory.Delete(_work, recursive: true);
    }

    [TestCaseSource(nameof(Seeds))]
    public void KernelAndSafeMountAgree(int seed)
    {
        TestEnvironment.RequireMountEnvironment();
        DiffLayout layout = DiffLayout.ForSeed(seed);
        string repro = Reproduction(seed, layout);
        TestContext.Out.WriteLine($"seed {seed}: layout {layout.Name}: {repro}");
        string dir = Path.Combine(_work, $"seed-{seed}");
        Directory.CreateDirectory(dir);
        try
        {
            Compare(seed, layout, dir);
        }
        catch (Exception e) when (e is not IgnoreException)
        {
            Assert.Fail($"seed {seed} (layout {layout.Name}) failed{(Keep ? $" (kept in {dir})" : string.Empty)}; {repro}\n{e.Message}");
        }
        finally
        {
            if (!Keep)
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static void Compare(int seed, DiffLayout layout, string dir)
    {
        string image = DiffImage.Build(dir, seed, layout);
        byte[] before = Sha256(image);
        string output = Path.Combine(dir, "compare");
        using (var activator = new SocketActivator(dir))
        {
            CommandResult r = Mounts.CompareInNamespace(image, output, dir, "ro", activator);
            Assert.That(r.ExitCode, Is.Zero, $"compare-mounts.sh: {r}\nservice log:\n{activator.Log}");
            TreeDump.AssertSame(Path.Combine(output, "kernel.txt"), Path.Combine(output, "safe.txt"));
            Assert.That(File.ReadAllText(Path.Combine(output, "statfs-safe.txt")),
                Is.EqualTo(File.ReadAllText(Path.Combine(output, "statfs-kernel.txt"))), "statfs differs");
            activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        }

        Assert.That(Sha256(image), Is.EqualTo(before), "the image changed while mounted read-only");
        TestImages.AssertClean(image);
    }

    private static byte[] Sha256(string path)
    {
        using FileStream f = File.OpenRead(path);
        return SHA256.HashData(f);
    }

    /// <summary>The exact commands that rebuild and recheck this seed.</summary>
    private static string Reproduction(int seed, DiffLayout layout)
    {
        string mkfs = string.Join(' ', layout.MkfsArguments("IMG").Select(Quote));
        string tune = layout.Tune2fs.Length > 0 ? $"tune2fs {string.Join(' ', layout.Tune2fs.Select(Quote))} IMG && " : string.Empty;
        return $"reproduce (as root, after `make publish`): " +
               $"{DiffSeeds.Variable}={seed} SAFEMOUNT_DIFF_KEEP=1 dotnet test tests/EndToEnd.Tests -c Release --filter 'FullyQualifiedName~DifferentialTests'" +
               $" ; by hand: mkfs.ext4 {mkfs} && {tune}unshare -m --propagation private sh -c 'mount -o loop IMG MNT && " +
               $"python3 tests/EndToEnd.Tests/scripts/difftest-populate.py populate MNT {seed} -v; umount MNT'";
    }

    private static string Quote(string s) =>
        s.All(c => char.IsAsciiLetterOrDigit(c) || "-_.,^=/".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
