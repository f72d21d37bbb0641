using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// Behaviour probes with the kernel as oracle: a probe script (scripts/*-probe.py) runs once on a
/// kernel ext4 rw mount and once on a safe.ext4 rw mount of copies of one fresh image, printing
/// one line per operation (its result or errno) and then the resulting tree; the two outputs
/// must be equal, and both images e2fsck clean afterwards.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ReadWriteProbeTests
{
    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-rwprobe-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => Directory.Delete(_work, recursive: true);

    /// <summary>chattr +i / +a on files and directories: every operation ext4's VFS refuses with EPERM, and those it allows.</summary>
    [TestCase("ext4-4k", "-t", "ext4", "-b", "4096")]
    [TestCase("ext4-1k-128-nocsum", "-t", "ext4", "-b", "1024", "-I", "128", "-O", "^metadata_csum")]
    [TestCase("ext3-blockmap", "-t", "ext3", "-b", "4096")]
    public void ImmutableAndAppendOnlyAsTheKernel(string name, params string[] mkfs) =>
        _ = AssertSameAsKernel("protect-" + name, "protect-probe.py", mkfs);

    /// <summary>renameat2(RENAME_WHITEOUT): files and directories, across parents, over targets, with NOREPLACE, in a setgid directory with a default ACL, by a user.</summary>
    [TestCase("ext4-4k", "-t", "ext4", "-b", "4096")]
    [TestCase("ext4-1k-nodirindex", "-t", "ext4", "-b", "1024", "-O", "^dir_index")]
    [TestCase("ext2-blockmap", "-t", "ext2", "-b", "4096")]
    public void RenameWhiteoutAsTheKernel(string name, params string[] mkfs) =>
        _ = AssertSameAsKernel("whiteout-" + name, "whiteout-probe.py", mkfs);

    /// <summary>
    /// i_version after metadata changes: the probe's operations on both mounts, then debugfs's
    /// "Version:" of every node it lists must be the same in both images (and not all 0 or 1,
    /// so the comparison sees increments).
    /// </summary>
    [TestCase("ext4-4k", "-t", "ext4", "-b", "4096")]
    [TestCase("ext4-1k-128", "-t", "ext4", "-b", "1024", "-I", "128")]
    public void IVersionAsTheKernel(string name, params string[] mkfs)
    {
        var (kernelImage, safeImage, output) = AssertSameAsKernel("iversion-" + name, "iversion-probe.py", mkfs);
        var paths = output.Split('\n').Where(l => l.StartsWith("path ", StringComparison.Ordinal)).Select(l => l[5..]).ToList();
        Assert.That(paths, Has.Count.GreaterThan(5));
        var versions = new List<string>();
        foreach (string path in paths)
        {
            string k = Version(kernelImage, path), s = Version(safeImage, path);
            Assert.That(s, Is.EqualTo(k), $"i_version of {path}");
            versions.Add(k);
        }

        Assert.That(versions.Distinct().Count(), Is.GreaterThan(3), "the probe moves i_version to several values: " + string.Join(", ", versions));
    }

    private static string Version(string image, string path)
    {
        CommandResult r = Command.Run("debugfs", ["-R", $"stat \"{path}\"", image], TimeSpan.FromMinutes(1));
        var m = System.Text.RegularExpressions.Regex.Match(r.StdOut, @"Version: (0x[0-9a-f]+(:[0-9a-f]+)?)");
        Assert.That(m.Success, Is.True, $"debugfs stat {path}: {r}");
        return m.Groups[1].Value;
    }

    private (string KernelImage, string SafeImage, string Output) AssertSameAsKernel(string name, string probe, string[] mkfs, params string[] probeArgs)
    {
        TestEnvironment.RequireMountEnvironment();
        string dir = Path.Combine(_work, name);
        Directory.CreateDirectory(dir);
        string kernelImage = Path.Combine(dir, "kernel.img"), safeImage = Path.Combine(dir, "safe.img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", .. mkfs, kernelImage, "64M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        File.Copy(kernelImage, safeImage);

        string kernel = Run(dir, kernelImage, "ext4", probe, probeArgs, null);
        string safe;
        using (var activator = new SocketActivator(dir))
        {
            safe = Run(dir, safeImage, "safe.ext4", probe, probeArgs, activator);
            activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        }

        TestImages.AssertClean(kernelImage);
        TestImages.AssertClean(safeImage);
        string kernelOut = Path.Combine(dir, "probe-kernel.txt"), safeOut = Path.Combine(dir, "probe-safe.txt");
        File.WriteAllText(kernelOut, kernel);
        File.WriteAllText(safeOut, safe);
        TreeDump.AssertSame(kernelOut, safeOut, $"{probe} on {name}");
        return (kernelImage, safeImage, kernel);
    }

    private static string Run(string dir, string image, string fstype, string probe, string[] probeArgs, SocketActivator? activator)
    {
        CommandResult r = Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "rw-probe.sh"),
             image, Path.Combine(dir, "mnt-" + fstype), Mounts.HelperDir(dir), fstype, probe, .. probeArgs],
            TimeSpan.FromMinutes(5), activator?.HelperEnvironment);
        Assert.That(r.ExitCode, Is.Zero, $"{fstype}: {r}\n{(activator is null ? string.Empty : "service log:\n" + activator.Log)}");
        return r.StdOut;
    }
}
