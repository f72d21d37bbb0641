using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// Launch without a socket unit on a machine where systemd is not init (this one): with nothing
/// at SAFEMOUNT_SOCKET, `mount -t safe.ext4` must make mount.safe.ext4 spawn the service itself
/// (posix_spawn, new session, the connection as fd 3, no other fd inherited) and mount end to end
/// (scripts/spawn-mount.sh). The content read is compared with debugfs; after umount the
/// service must be gone, not left a zombie; the image must be e2fsck-clean.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LaunchWithoutSocketTests
{
    private const string ProbeFile = "files/size-65536";

    [Test]
    public void MountSpawnsTheServiceWhenNoSocketExists()
    {
        TestEnvironment.RequireMountEnvironment();
        if (Directory.Exists("/run/systemd/system"))
        {
            Assert.Ignore("systemd is init here: the helper would start a transient unit (RealSystemdTests covers that)");
        }

        string work = Directory.CreateTempSubdirectory("safemount-spawn-").FullName;
        try
        {
            string image = TestImages.Build(work, new ImageLayout("spawn", [], "32M", 10, false, 17));
            CommandResult expected = Command.Bash($"debugfs -R 'cat /{ProbeFile}' '{image}' 2>/dev/null | sha256sum | cut -d' ' -f1", TimeSpan.FromMinutes(1));
            Assert.That(expected.ExitCode, Is.Zero, expected.ToString());
            string mnt = Path.Combine(work, "mnt");
            Directory.CreateDirectory(mnt);
            string leak = Path.Combine(work, "leak-probe");
            File.WriteAllText(leak, "an fd on this file must not reach the service\n");
            string log = Path.Combine(work, "service.log");
            Dictionary<string, string> env = new()
            {
                ["SAFEMOUNT_SOCKET"] = Path.Combine(work, "no-such.sock"),
                ["SAFEMOUNT_SERVICE"] = TestEnvironment.ServicePath,
                ["SAFEMOUNT_SERVICE_LOG"] = log,
            };
            CommandResult r = Command.Run("unshare",
                ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "spawn-mount.sh"), Mounts.HelperDir(work), image, mnt, ProbeFile, leak],
                TimeSpan.FromMinutes(2), env);
            Dictionary<string, string> v = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.StartsWith("helper: ", StringComparison.Ordinal) && l.Contains('='))
                .Select(l => l.Split('=', 2))
                .GroupBy(p => p[0])
                .ToDictionary(g => g.Key, g => g.First()[1]);
            string Get(string key) => v.TryGetValue(key, out string? value) ? value : "(missing)";
            string context = $"{r}\nservice log:\n{(File.Exists(log) ? File.ReadAllText(log) : "(none)")}";

            Assert.Multiple(() =>
            {
                Assert.That(Get("mount-exit"), Is.EqualTo("0"), context);
                Assert.That(Get("launcher"), Is.EqualTo("launcher: direct spawn"), "what mount.safe.ext4 -v says it used " + context);
                Assert.That(Get("fstype"), Is.EqualTo("fuseblk.safe.ext4"));
                Assert.That(Get("sha256"), Is.EqualTo(expected.StdOut.Trim()), "content through the spawned service");
                Assert.That(Get("exe"), Is.EqualTo(TestEnvironment.ServicePath));
                Assert.That(Get("state"), Is.Not.EqualTo("Z"), "the service serves, it is not a zombie");
                Assert.That(Get("session"), Is.EqualTo(Get("pid")), "the service leads a session of its own (setsid)");
                Assert.That(Get("ppid"), Is.Not.EqualTo("(missing)"));
                Assert.That(Get("fd0"), Is.EqualTo("/dev/null"));
                Assert.That(Get("fd1"), Is.EqualTo("/dev/null"));
                Assert.That(Get("fd3"), Is.EqualTo("socket"), "the connection is fd 3");
                Assert.That(Get("leaked"), Is.EqualTo("0"), "fds of the caller (fd 7), the image or the mountpoint inherited by the service");
                Assert.That(Get("umount-exit"), Is.EqualTo("0"));
                Assert.That(Get("mounted-after"), Is.EqualTo("0"));
                Assert.That(Get("service-gone"), Is.EqualTo("yes"), $"the service exited after umount and was reaped (state {Get("state-after")})");
            });
            Assert.That(File.ReadAllText(log), Does.Contain("unmounted"), "the service logged to SAFEMOUNT_SERVICE_LOG");
            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
