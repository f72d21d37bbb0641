using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>Where the repository, the published binaries and the test scripts are.</summary>
internal static class TestEnvironment
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>`make publish` output: the Native AOT binaries under test.</summary>
    public static string OutDir => Path.Combine(RepoRoot, "out");

    /// <summary>SAFEMOUNT_INSTALLED=1 runs the end-to-end tests against the installed files
    /// (`make install`, the .deb or the .rpm: FHS paths) instead of out/.</summary>
    public static bool UseInstalled => Environment.GetEnvironmentVariable("SAFEMOUNT_INSTALLED") == "1";

    /// <summary>&lt;Version&gt; of Directory.Build.props: what both binaries print with --version
    /// and what `make rpm`/`make deb` stamp on the packages.</summary>
    public static string ProductVersion { get; } = System.Text.RegularExpressions.Regex.Match(
        File.ReadAllText(Path.Combine(RepoRoot, "Directory.Build.props")), "<Version>([^<]+)</Version>").Groups[1].Value;

    public static string HelperPath => UseInstalled ? "/usr/sbin/mount.safe.ext4" : Path.Combine(OutDir, "mount.safe.ext4");

    public static string ServicePath => UseInstalled ? "/usr/libexec/safemount/safemount-ext4" : Path.Combine(OutDir, "safemount-ext4");

    public static string ScriptsDir => Path.Combine(RepoRoot, "tests", "EndToEnd.Tests", "scripts");

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>End-to-end tests mount for real: root, /dev/fuse, loop devices, and the published
    /// binaries. Without root they are skipped (CI runs as root, so there they always run); a
    /// missing binary is a failure, not a skip.</summary>
    public static void RequireMountEnvironment()
    {
        if (!IsRoot)
        {
            Assert.Ignore("end-to-end mounts need root");
        }

        Assert.That(File.Exists("/dev/fuse"), "/dev/fuse is missing");
        Assert.That(File.Exists(HelperPath), $"{HelperPath} is missing: run `make publish` first");
        Assert.That(File.Exists(ServicePath), $"{ServicePath} is missing: run `make publish` first");
    }

    private static string FindRepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "safemount.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("safemount.sln not found above the test binaries");
    }
}
