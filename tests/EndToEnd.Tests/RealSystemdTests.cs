using System.Globalization;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// Boots a real systemd (systemd-nspawn -b of the host's own OS, TESTING.md "Real systemd") with
/// the `make install` tree and the real units from packaging/systemd, and mounts one image through
/// it twice (scripts/systemd-boot-test.sh, scripts/systemd-inside.sh): (a) a systemd.mount(5)
/// unit started with systemctl, (b) an /etc/fstab line with nofail,x-systemd.automount that
/// systemd-fstab-generator(8) turns into an automount which the first access triggers. While each
/// mount is up, /proc/PID/status (proc(5)) of the socket-activated service instance must show a
/// DynamicUser= uid, no capability in any set, NoNewPrivs and a seccomp filter; after each stop
/// the per-connection instance must be gone. Then (c) with the socket unit disabled a plain
/// `mount -t safe.ext4` must make the helper start the service as a transient unit through
/// systemd's D-Bus API, confined the same way, with every setting of the template reading back
/// identically from `systemctl show`. Back on the host the image must be e2fsck-clean.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RealSystemdTests
{
    private const string ProbeFile = "files/size-65536";
    private const string NoCapabilities = "0000000000000000";

    // systemd.exec(5), DynamicUser=: uids and gids are allocated from 61184..65519.
    private const int DynamicIdFirst = 61184;
    private const int DynamicIdLast = 65519;

    [Test]
    public void MountUnitFstabAutomountAndTransientUnitUnderRealSystemd()
    {
        TestEnvironment.RequireMountEnvironment();
        if (Command.Bash("command -v systemd-nspawn", TimeSpan.FromSeconds(10)).ExitCode != 0)
        {
            Assert.Ignore("systemd-nspawn is not installed (apt package systemd-container, scripts/install-deps): no real systemd can be booted");
        }

        string work = Directory.CreateTempSubdirectory("safemount-systemd-").FullName;
        try
        {
            string image = TestImages.Build(work, new ImageLayout("systemd", [], "64M", 100, false, 71));
            // The oracle for the content: e2fsprogs reads the file without any mount.
            CommandResult expected = Command.Bash($"debugfs -R 'cat /{ProbeFile}' '{image}' 2>/dev/null | sha256sum | cut -d' ' -f1", TimeSpan.FromMinutes(1));
            Assert.That(expected.ExitCode, Is.Zero, expected.ToString());
            string sha = expected.StdOut.Trim();

            string containerDir = Path.Combine(work, "container");
            Directory.CreateDirectory(containerDir);
            CommandResult r = Command.Run(Path.Combine(TestEnvironment.ScriptsDir, "systemd-boot-test.sh"),
                [TestEnvironment.RepoRoot, TestEnvironment.OutDir, image, ProbeFile, containerDir],
                TimeSpan.FromMinutes(3));
            string resultsPath = Path.Combine(containerDir, "results", "results");
            string results = File.Exists(resultsPath) ? File.ReadAllText(resultsPath) : string.Empty;
            string consolePath = Path.Combine(containerDir, "console.log");
            string console = File.Exists(consolePath) ? File.ReadAllText(consolePath) : "(no console log)";
            TestContext.Out.WriteLine($"real-systemd results:\n{results}");
            string context = $"{r}\nresults:\n{results}\ncontainer console:\n{console}";

            Dictionary<string, string> v = results.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=', 2))
                .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty);
            string Get(string key) => v.TryGetValue(key, out string? value) ? value : "(missing)";

            Assert.Multiple(() =>
            {
                Assert.That(r.ExitCode, Is.Zero, "container exit status (the test unit's) " + context);
                Assert.That(Get("done"), Is.EqualTo("yes"), "the test unit ran to its end " + context);
                Assert.That(Get("helper-is-staged"), Is.EqualTo("yes"), "mount(8) finds the staged helper");
                Assert.That(Get("service-is-staged"), Is.EqualTo("yes"), "ExecStart names the staged service");
                Assert.That(Get("socket-enable-exit"), Is.EqualTo("0"), "systemctl enable --now safemount-ext4.socket");
                Assert.That(Get("socket-active"), Is.EqualTo("active"));
                Assert.That(Get("socket-path"), Is.EqualTo("socket"), "/run/safemount/ext4.sock");

                // (a) the .mount unit
                Assert.That(Get("a-start-exit"), Is.EqualTo("0"), "systemctl start mnt-unit.mount");
                Assert.That(Get("a-active"), Is.EqualTo("active"));
                Assert.That(Get("a-fstype"), Is.EqualTo("fuseblk.safe.ext4"));
                Assert.That(Get("a-source"), Does.Match("^/dev/loop[0-9]+$"));
                Assert.That(Get("a-sha256"), Is.EqualTo(sha), "content read through the .mount unit");
                Assert.That(Get("a-options"), Is.EqualTo("rw"), "the .mount unit asked for rw and got it");
                Assert.That(Get("a-cp-exit"), Is.EqualTo("0"), "a file written through the confined service");
                Assert.That(Get("a-readback-sha256"), Is.EqualTo(Get("a-written-sha256")), "read back through the mount");
                AssertConfined("a", Get);
                Assert.That(Get("a-stop-exit"), Is.EqualTo("0"), "systemctl stop mnt-unit.mount");
                Assert.That(Get("a-mounted-after-stop"), Is.EqualTo("0"));
                Assert.That(Get("a-fsck-exit"), Is.EqualTo("0"), "e2fsck -fn after the read-write mount");
                Assert.That(Get("a-fsck-readback-sha256"), Is.EqualTo(Get("a-written-sha256")), "debugfs reads what the service wrote");
                Assert.That(Get("a-instances-after-stop"), Is.EqualTo("0"), "service instance left after the .mount unit stopped");

                // (b) the fstab line with x-systemd.automount
                Assert.That(Get("b-generated"), Is.EqualTo("/etc/fstab"), "mnt-auto.mount comes from the fstab generator");
                Assert.That(Get("b-automount-active"), Is.EqualTo("active"));
                Assert.That(Get("b-mount-before-access"), Is.EqualTo("inactive"), "nothing mounted before the first access");
                Assert.That(Get("b-sha256"), Is.EqualTo(sha), "content read through the automount");
                Assert.That(Get("b-mount-after-access"), Is.EqualTo("active"), "the access triggered the mount");
                Assert.That(Get("b-fstype"), Is.EqualTo("fuseblk.safe.ext4"));
                AssertConfined("b", Get);
                Assert.That(Get("b-stop-exit"), Is.EqualTo("0"), "systemctl stop mnt-auto.automount mnt-auto.mount");
                Assert.That(Get("b-mounted-after-stop"), Is.EqualTo("0"));
                Assert.That(Get("b-instances-after-stop"), Is.EqualTo("0"), "service instance left after the automount stopped");

                // (c) no socket unit: the helper starts a transient unit through systemd's D-Bus API
                Assert.That(Get("c-socket-gone"), Is.EqualTo("yes"), "the socket unit is stopped and its socket removed");
                Assert.That(Get("c-mount-exit"), Is.EqualTo("0"), "mount -t safe.ext4 without the socket unit " + context);
                Assert.That(Get("c-launcher"), Is.EqualTo("launcher: systemd transient unit"), "what mount.safe.ext4 -v says it used");
                Assert.That(Get("c-fstype"), Is.EqualTo("fuseblk.safe.ext4"));
                Assert.That(Get("c-sha256"), Is.EqualTo(sha), "content read through the transient unit's mount");
                Assert.That(Get("c-transient"), Is.EqualTo("yes"), "systemctl show -P Transient");
                AssertConfined("c", Get);
                Assert.That(int.Parse(Get("c-props-compared"), CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(50), "settings of the template compared with systemctl show");
                Assert.That(Get("c-props-differing"), Is.EqualTo("0"), "settings where the transient unit differs from the template (< template, > transient): " + Get("c-props-diff") + " " + context);
                Assert.That(Get("c-umount-exit"), Is.EqualTo("0"));
                Assert.That(Get("c-mounted-after-stop"), Is.EqualTo("0"));
                Assert.That(Get("c-instances-after-stop"), Is.EqualTo("0"), "transient unit left after umount");
            });

            // The container is gone, so is every loop device it used: the image is whole again.
            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The unit's confinement as the kernel reports it for the running instance
    /// (proc(5) /proc/PID/status): the mount was served by exactly one instance, running the
    /// installed binary as a dynamic user, with every capability set empty, no_new_privs set and
    /// seccomp in filter mode (2) because the unit sets SystemCallFilter=.</summary>
    private static void AssertConfined(string p, Func<string, string> get)
    {
        Assert.That(get($"{p}-instances"), Is.EqualTo("1"), $"{p}: safemount-ext4@ instances while mounted");
        Assert.That(get($"{p}-service-pid-nonzero"), Is.EqualTo("yes"), $"{p}: the instance's MainPID");
        Assert.That(get($"{p}-service-exe"), Is.EqualTo("/usr/libexec/safemount/safemount-ext4"), $"{p}: the instance's /proc/PID/exe");
        foreach (string ids in new[] { "Uid", "Gid" })
        {
            string[] four = get($"{p}-{ids}").Split(',');
            Assert.That(four, Has.Length.EqualTo(4), $"{p}: {ids} (real, effective, saved, fs)");
            Assert.That(four.Distinct().Count(), Is.EqualTo(1), $"{p}: {ids} all equal: {get($"{p}-{ids}")}");
            Assert.That(int.TryParse(four[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                        && id is >= DynamicIdFirst and <= DynamicIdLast,
                $"{p}: {ids} {four[0]} is a DynamicUser= id");
        }

        foreach (string set in new[] { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" })
        {
            Assert.That(get($"{p}-{set}"), Is.EqualTo(NoCapabilities), $"{p}: {set}");
        }

        Assert.That(get($"{p}-NoNewPrivs"), Is.EqualTo("1"), $"{p}: NoNewPrivs");
        Assert.That(get($"{p}-Seccomp"), Is.EqualTo("2"), $"{p}: Seccomp (2 = filter)");
        Assert.That(int.TryParse(get($"{p}-Seccomp_filters"), out int filters) && filters > 0,
            $"{p}: Seccomp_filters {get($"{p}-Seccomp_filters")}");
    }
}
