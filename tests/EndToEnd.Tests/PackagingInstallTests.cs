using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// `make install DESTDIR=... PREFIX=/usr/local` puts every file where the FHS and systemd look for
/// it under that prefix (sbin, libexec/safemount, lib/systemd/system and system-preset,
/// share/man/man8, share/doc/safemount), substitutes the service path into ExecStart and strips the
/// AOT RUNPATH; `make uninstall` with the same variables removes every file it installed.
/// </summary>
[TestFixture]
public sealed class PackagingInstallTests
{
    private static readonly string[] Installed =
    [
        "usr/local/sbin/mount.safe.ext4",
        "usr/local/libexec/safemount/safemount-ext4",
        "usr/local/lib/systemd/system/safemount-ext4.socket",
        "usr/local/lib/systemd/system/safemount-ext4@.service",
        "usr/local/lib/systemd/system-preset/80-safemount.preset",
        "usr/local/share/man/man8/mount.safe.ext4.8",
        "usr/local/share/man/man8/safemount-ext4.8",
        "usr/local/share/doc/safemount/README.md",
        "usr/local/share/doc/safemount/PROTOCOL.md",
    ];

    [Test]
    public void InstallHonoursPrefixAndUninstallRemovesEveryFile()
    {
        Assert.That(File.Exists(TestEnvironment.HelperPath) && File.Exists(TestEnvironment.ServicePath), "run `make publish` first");
        string dest = Directory.CreateTempSubdirectory("safemount-install-").FullName;
        try
        {
            string make = $"cd '{TestEnvironment.RepoRoot}' && make --no-print-directory OUT='{TestEnvironment.OutDir}' DESTDIR='{dest}' PREFIX=/usr/local";
            CommandResult install = Command.Bash($"{make} install", TimeSpan.FromMinutes(2));
            Assert.That(install.ExitCode, Is.Zero, install.ToString());
            string[] files = Directory.EnumerateFiles(dest, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(dest, f)).ToArray();
            Assert.That(files, Is.EquivalentTo(Installed));
            Assert.That(File.ReadAllText(Path.Combine(dest, "usr/local/lib/systemd/system/safemount-ext4@.service")),
                Does.Contain("\nExecStart=/usr/local/libexec/safemount/safemount-ext4\n"));
            CommandResult dyn = Command.Run("readelf", ["-d", Path.Combine(dest, Installed[0]), Path.Combine(dest, Installed[1])], TimeSpan.FromSeconds(30));
            Assert.That(dyn.StdOut, Does.Contain("NEEDED").And.Not.Contain("RUNPATH").And.Not.Contain("RPATH"), dyn.ToString());

            CommandResult uninstall = Command.Bash($"{make} uninstall", TimeSpan.FromMinutes(1));
            Assert.That(uninstall.ExitCode, Is.Zero, uninstall.ToString());
            Assert.That(Directory.EnumerateFileSystemEntries(dest, "*", SearchOption.AllDirectories).Where(p => !Directory.Exists(p)), Is.Empty);
            Assert.That(Directory.Exists(Path.Combine(dest, "usr/local/libexec/safemount")), Is.False, "libexec/safemount left behind");
            Assert.That(Directory.Exists(Path.Combine(dest, "usr/local/share/doc/safemount")), Is.False, "share/doc/safemount left behind");
        }
        finally
        {
            Directory.Delete(dest, recursive: true);
        }
    }
}
