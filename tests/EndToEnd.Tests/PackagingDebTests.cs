using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The Debian package end to end: `packaging/debian/build-deb` (what `make deb` runs) builds it,
/// apt installs it, a real `mount -t safe.ext4` goes through the installed helper and the installed
/// service (over the default socket path), then `apt-get purge` must leave no file, no systemd
/// state and no /run/safemount behind. deb-install-mount.sh does this in a private mount namespace
/// whose /usr, /etc and /var are overlays on a tmpfs, so the machine's own dpkg database and any
/// `make install` copies are never touched, and all of it is gone when the namespace ends.
/// </summary>
[TestFixture]
public sealed class PackagingDebTests
{
    private static readonly string Version = TestEnvironment.ProductVersion;

    [Test]
    public void DebInstallsMountsAndPurgesCleanly()
    {
        TestEnvironment.RequireMountEnvironment();
        string work = Directory.CreateTempSubdirectory("safemount-deb-").FullName;
        try
        {
            string debDir = Path.Combine(work, "deb");
            CommandResult build = Command.Bash($"cd '{TestEnvironment.RepoRoot}' && packaging/debian/build-deb",
                TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["VERSION"] = Version, ["OUT"] = TestEnvironment.OutDir, ["DEBDIR"] = debDir });
            Assert.That(build.ExitCode, Is.Zero, build.ToString());
            string deb = Path.Combine(debDir, $"safemount_{Version}-1_amd64.deb");
            Assert.That(File.Exists(deb), build.ToString());

            CommandResult info = Command.Run("dpkg-deb", ["--field", deb, "Package", "Architecture", "Depends"], TimeSpan.FromSeconds(30));
            Assert.That(info.StdOut, Does.Contain("Package: safemount").And.Contain("Architecture: amd64").And.Contain("libc6 (>= 2."), info.ToString());

            Directory.CreateDirectory(Path.Combine(work, "ov"));
            CommandResult r = Command.Run("unshare",
                ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "deb-install-mount.sh"), deb, work],
                TimeSpan.FromMinutes(3));
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            Assert.That(r.StdOut.TrimEnd(), Does.EndWith("deb test: ok"), r.ToString());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
