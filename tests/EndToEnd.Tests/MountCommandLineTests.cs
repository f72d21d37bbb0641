using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// mount(8) around a real safe.ext4 mount (scripts/cli-behaviour.sh): `mount -v` shows the
/// helper's protocol steps, an explicit `-o remount` is refused with exit 32 and the mount stays,
/// a bind remount changes per-mount flags, umount ends the service, umount -l detaches at once
/// and the service serves the still-open file until it is closed. The service runs once with
/// JOURNAL_STREAM set (systemd formatter, "&lt;N&gt;" priority prefixes) and once without (plain
/// lines); either way every line names the helper before the mount request and the device and
/// mount point from the request on.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class MountCommandLineTests
{
    private const string File65536 = "files/size-65536";

    /// <summary>Lines systemd-socket-activate itself writes into the same log.</summary>
    private static readonly string[] ActivatorPrefixes = ["Listening on ", "Communication attempt", "Connection from ", "Spawned ", "Execing ", "Child "];

    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir()
    {
        _work = Directory.CreateTempSubdirectory("safemount-cli-").FullName;
    }

    [OneTimeTearDown]
    public void RemoveWorkDir()
    {
        Directory.Delete(_work, recursive: true);
    }

    /// <summary>How the service's stderr is described to it.</summary>
    public enum Stream
    {
        /// <summary>No JOURNAL_STREAM: plain lines.</summary>
        Plain,

        /// <summary>JOURNAL_STREAM names the log file stderr is open on, as systemd does for the journal stream.</summary>
        Journal,

        /// <summary>JOURNAL_STREAM inherited from elsewhere (another file): plain lines.</summary>
        StaleJournal,
    }

    [TestCase(Stream.Journal)]
    [TestCase(Stream.Plain)]
    [TestCase(Stream.StaleJournal)]
    public void MountRemountUmountAndServiceLog(Stream stream)
    {
        TestEnvironment.RequireMountEnvironment();
        bool underJournal = stream == Stream.Journal;
        string name = "cli-" + stream.ToString().ToLowerInvariant();
        // A directory per case: the activator appends to WORK/service.log.
        string work = Directory.CreateDirectory(Path.Combine(_work, name)).FullName;
        string image = TestImages.Build(work, new ImageLayout(name, [], "64M", 100, false, 31));
        string mnt = Path.Combine(work, "mnt");
        string logFile = SocketActivator.LogPathFor(work);
        File.WriteAllText(logFile, string.Empty);
        Dictionary<string, string>? env = stream switch
        {
            Stream.Journal => new() { ["JOURNAL_STREAM"] = DeviceAndInode(logFile) },
            Stream.StaleJournal => new() { ["JOURNAL_STREAM"] = DeviceAndInode(image) },
            _ => null,
        };
        CommandResult r;
        string log;
        using (var activator = new SocketActivator(work, env))
        {
            r = Command.Run("unshare",
                ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "cli-behaviour.sh"),
                 image, mnt, Mounts.HelperDir(work), TestEnvironment.ServicePath, File65536],
                TimeSpan.FromMinutes(2), activator.HelperEnvironment);
            activator.AssertServicesExit(TimeSpan.FromSeconds(15));
            log = activator.Log;
        }

        string context = $"{r}\nservice log:\n{log}";
        Dictionary<string, string> v = Values(r.StdOut);

        Assert.That(v.GetValueOrDefault("mount-exit"), Is.EqualTo("0"), context);
        AssertInOrder(r.StdErr.Split("--- remount")[0],
        [
            "mount.safe.ext4: connected to ",
            "mount.safe.ext4: HELLO: protocol 1-1",
            "mount.safe.ext4: HELLO_REPLY: protocol 1",
            "mount.safe.ext4: MOUNT_REQUEST: /dev/loop",
            "device fd passed (SCM_RIGHTS)",
            "mount.safe.ext4: MOUNT_ACCEPTED: fuseblk.safe.ext4",
            "mount.safe.ext4: FUSE_FD: /dev/fuse fd",
            "mount.safe.ext4: FUSE_FD_ACCEPTED",
            "mount.safe.ext4: mounted /dev/loop",
            "fsopen/fsconfig/fsmount/move_mount",
            "mount.safe.ext4: READY",
        ], context);

        // mount(8) runs the helper for "-t safe.ext4 -o remount": refused, the mount is untouched.
        Assert.That(v.GetValueOrDefault("remount-exit"), Is.EqualTo("32"), context);
        Assert.That(r.StdErr, Does.Contain($"mount.safe.ext4: {image}: remount is not supported by safe.ext4: unmount it (umount DIR) and mount it again"), context);
        Assert.That(v.GetValueOrDefault("still-readable"), Is.EqualTo("65536"), context);

        Assert.That(v.GetValueOrDefault("bind-remount-exit"), Is.EqualTo("0"), context);
        Assert.That(v.GetValueOrDefault("mountinfo"), Does.Match(@"\bro,nosuid,nodev,noexec\b.* - fuseblk\.safe\.ext4 "), context);

        Assert.That(v.GetValueOrDefault("umount-exit"), Is.EqualTo("0"), context);
        Assert.That(v.GetValueOrDefault("services-after-umount"), Is.EqualTo("0"), context);

        // umount(8) exit 32 for a busy target; umount -l detaches now and the service stays for the open file.
        Assert.That(v.GetValueOrDefault("second-mount-exit"), Is.EqualTo("0"), context);
        Assert.That(v.GetValueOrDefault("busy-umount-exit"), Is.EqualTo("32"), context);
        Assert.That(v.GetValueOrDefault("lazy-umount-exit"), Is.EqualTo("0"), context);
        Assert.That(v.GetValueOrDefault("mounted-after-lazy"), Is.EqualTo("0"), context);
        Assert.That(v.GetValueOrDefault("read-after-lazy"), Is.EqualTo("65536"), context);
        Assert.That(v.GetValueOrDefault("services-while-open"), Is.EqualTo("1"), context);
        Assert.That(v.GetValueOrDefault("services-after-close"), Is.EqualTo("0"), context);

        AssertServiceLog(log, underJournal, image, mnt);
        TestImages.AssertClean(image);
    }

    /// <summary>Two services ran (two mounts). Each logged a "helper pid" line first, then only
    /// lines naming IMAGE on MNT, in the expected format.</summary>
    private static void AssertServiceLog(string log, bool underJournal, string image, string mnt)
    {
        string[] lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !ActivatorPrefixes.Any(p => l.StartsWith(p, StringComparison.Ordinal)))
            .ToArray();
        string prefix = underJournal ? @"<[0-7]>" : @"(?:trce|dbug|info|warn|fail|crit): ";
        var line = new Regex($@"^{prefix}safemount-ext4\[(\d+)\] (.*)$");
        string target = $"{image} on {mnt}: ";
        int connected = 0, requests = 0;
        bool afterRequest = false;
        foreach (string l in lines)
        {
            Match m = line.Match(l);
            Assert.That(m.Success, $"line not in the {(underJournal ? "systemd" : "plain")} format: '{l}'\nlog:\n{log}");
            int eventId = int.Parse(m.Groups[1].Value);
            string text = m.Groups[2].Value;
            if (eventId == 100)
            {
                connected++;
                afterRequest = false;
                Assert.That(text, Does.Match(@"^helper pid \d+, uid 0: helper connected: protocol version 1$"), log);
                continue;
            }

            if (eventId == 101)
            {
                requests++;
                afterRequest = true;
            }

            Assert.That(afterRequest, $"line before the mount request other than 'connected': '{l}'");
            Assert.That(text, Does.StartWith(target), $"line does not name the device and mount point: '{l}'");
        }

        Assert.That(connected, Is.EqualTo(2), log);
        Assert.That(requests, Is.EqualTo(2), log);
        Assert.That(lines, Has.Some.Contains("mounted: ").And.Some.Contains("session ended: "), log);
        if (underJournal)
        {
            Assert.That(lines, Has.Some.StartWith("<6>"), log);
        }
    }

    /// <summary>"st_dev:st_ino" of a file in decimal, as systemd writes JOURNAL_STREAM (stat(1) %d:%i).</summary>
    private static string DeviceAndInode(string path)
    {
        CommandResult r = Command.Run("stat", ["-c", "%d:%i", path], TimeSpan.FromSeconds(10));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return r.StdOut.Trim();
    }

    private static Dictionary<string, string> Values(string stdout)
    {
        var d = new Dictionary<string, string>();
        foreach (string l in stdout.Split('\n'))
        {
            int eq = l.IndexOf('=');
            if (eq > 0)
            {
                d[l[..eq]] = l[(eq + 1)..];
            }
        }

        return d;
    }

    private static void AssertInOrder(string text, string[] steps, string context)
    {
        int at = 0;
        foreach (string step in steps)
        {
            int i = text.IndexOf(step, at, StringComparison.Ordinal);
            Assert.That(i, Is.GreaterThanOrEqualTo(0), $"'{step}' missing or out of order\n{context}");
            at = i + step.Length;
        }
    }
}
