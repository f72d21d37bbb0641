using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The binary RPM: `packaging/rpm/build-rpm` (what `make rpm` runs) builds it with rpmbuild from
/// the published binaries and lints it with the project's rpmlint config, which must report no
/// error; the package lists the FHS paths, and its payload carries units whose ExecStart names
/// /usr/libexec/safemount/safemount-ext4 and binaries without the AOT build's $ORIGIN RUNPATH.
/// </summary>
[TestFixture]
public sealed class PackagingRpmTests
{
    private static readonly string Version = TestEnvironment.ProductVersion;

    private static readonly string[] ExpectedPaths =
    [
        "/usr/sbin/mount.safe.ext4",
        "/usr/libexec/safemount",
        "/usr/libexec/safemount/safemount-ext4",
        "/usr/lib/systemd/system/safemount-ext4.socket",
        "/usr/lib/systemd/system/safemount-ext4@.service",
        "/usr/lib/systemd/system-preset/80-safemount.preset",
        "/usr/share/man/man8/mount.safe.ext4.8.gz",
        "/usr/share/man/man8/safemount-ext4.8.gz",
        "/usr/share/doc/safemount",
        "/usr/share/doc/safemount/PROTOCOL.md",
        "/usr/share/doc/safemount/README.md",
    ];

    [Test]
    public void RpmBuildsListsTheFhsPathsAndLintsWithoutErrors()
    {
        Assert.That(File.Exists(TestEnvironment.HelperPath) && File.Exists(TestEnvironment.ServicePath), "run `make publish` first");
        string work = Directory.CreateTempSubdirectory("safemount-rpm-").FullName;
        try
        {
            string rpmDir = Path.Combine(work, "rpm");
            CommandResult build = Command.Bash($"cd '{TestEnvironment.RepoRoot}' && packaging/rpm/build-rpm",
                TimeSpan.FromMinutes(3), new Dictionary<string, string> { ["VERSION"] = Version, ["OUT"] = TestEnvironment.OutDir, ["RPMDIR"] = rpmDir });
            Assert.That(build.ExitCode, Is.Zero, build.ToString());
            Assert.That(build.StdOut, Does.Contain(" 0 errors,"), build.ToString());

            string rpm = Path.Combine(rpmDir, $"safemount-{Version}-1.x86_64.rpm");
            CommandResult list = Command.Run("rpm", ["-qlp", rpm], TimeSpan.FromSeconds(30));
            Assert.That(list.ExitCode, Is.Zero, list.ToString());
            string[] paths = list.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(paths, Is.EquivalentTo(ExpectedPaths), list.StdOut);

            string root = Path.Combine(work, "root");
            Directory.CreateDirectory(root);
            CommandResult extract = Command.Bash($"cd '{root}' && rpm2cpio '{rpm}' | cpio -idm --quiet", TimeSpan.FromMinutes(1));
            Assert.That(extract.ExitCode, Is.Zero, extract.ToString());
            string unit = File.ReadAllText(Path.Combine(root, "usr/lib/systemd/system/safemount-ext4@.service"));
            Assert.That(unit, Does.Contain("\nExecStart=/usr/libexec/safemount/safemount-ext4\n"));
            Assert.That(File.ReadAllText(Path.Combine(root, "usr/lib/systemd/system-preset/80-safemount.preset")),
                Does.Contain("\nenable safemount-ext4.socket\n"));
            CommandResult dyn = Command.Run("readelf", ["-d", Path.Combine(root, "usr/sbin/mount.safe.ext4"), Path.Combine(root, "usr/libexec/safemount/safemount-ext4")],
                TimeSpan.FromSeconds(30));
            Assert.That(dyn.ExitCode, Is.Zero, dyn.ToString());
            Assert.That(dyn.StdOut, Does.Contain("NEEDED").And.Not.Contain("RUNPATH").And.Not.Contain("RPATH"), dyn.StdOut);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
