using System.Diagnostics;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// Hostile peer processes on each side of the helper↔service protocol (issue 6 part 3).
/// (1) The real mount.safe.ext4 against scripts/hostile-service.py, a fake service that dies,
/// hangs, sends garbage, an oversized message, fds (1, 2, 200, /etc/shadow) where none belong, or
/// asks for /etc/shadow, agrees to a capability never asked for, or takes the O_DIRECT device
/// fd of a read-write mount and dies: the helper must fail with exit status 32 and a one-line reason, leave
/// nothing mounted (/proc/self/mountinfo of its namespace) and, once the fake is gone, no loop
/// device on the image. (2) scripts/hostile-helper.py against the real safemount-ext4 (spawned as
/// the helper's direct-spawn launcher does): a peer that is not uid 0, garbage, truncated and
/// oversized messages, extra fds, fds of the wrong type, a DIRECT_DEVICE that is missing its fd,
/// has two, is not O_DIRECT, is another file, or was never agreed: the service must log the reason and
/// exit 1 without ever serving.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class HostilePeerTests
{
    private const int MountFailure = 32;

    private string _work = string.Empty;
    private string _image = string.Empty;

    [OneTimeSetUp]
    public void BuildImage()
    {
        TestEnvironment.RequireMountEnvironment();
        _work = Directory.CreateTempSubdirectory("safemount-hostile-").FullName;
        _image = TestImages.Build(_work, new ImageLayout("hostile", [], "16M", 10, false, 23));
    }

    [OneTimeTearDown]
    public void RemoveWork()
    {
        if (_work.Length > 0)
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [TestCase("die-at-hello", "the peer closed the connection")]
    [TestCase("hang-at-hello", "timed out waiting for HELLO_REPLY")]
    [TestCase("garbage-hello-reply", "service protocol error: ")]
    [TestCase("oversized", "message larger than 65536 bytes")]
    [TestCase("version-99", "service chose protocol version 99")]
    [TestCase("fds-1", "HelloReply message carried file descriptors")]
    [TestCase("fds-2", "HelloReply message carried file descriptors")]
    [TestCase("fds-200", "HelloReply message carried file descriptors")]
    [TestCase("shadow-fd", "HelloReply message carried file descriptors")]
    [TestCase("die-after-request", "the peer closed the connection")]
    [TestCase("ask-for-shadow", "unknown message type tag 99")]
    [TestCase("shadow-subtype", "subtype '../../../etc/shadow', not in the allowlist")]
    [TestCase("shadow-fstype", "fs type '/etc/shadow'")]
    [TestCase("file-rootmode", "not a directory mode")]
    [TestCase("blksize-3", "block size 3")]
    [TestCase("hang-before-ready", "did not answer the kernel's FUSE_INIT")]
    [TestCase("direct-unasked-bit", "agree to capabilities the helper did not ask for")]
    [TestCase("direct-die-after-request", "the peer closed the connection")]
    public void HelperFailsCleanlyAgainstAHostileService(string mode, string reason)
    {
        string dir = Path.Combine(_work, "run-" + mode);
        Directory.CreateDirectory(dir);
        string socket = Path.Combine(dir, "fake.sock");
        string mnt = Path.Combine(dir, "mnt");
        Directory.CreateDirectory(mnt);
        using Process fake = StartFake(socket, mode, Path.Combine(dir, "fake.log"));
        CommandResult r;
        try
        {
            // The direct-I/O cases need a read-write mount: only then does the helper offer DIRECT_DEVICE.
            const string Script = "\"$1\" -o \"$4\" \"$2\" \"$3\"; echo \"exit=$?\"; echo \"mounted=$(grep -c \" $3 \" /proc/self/mountinfo)\"";
            string options = mode.StartsWith("direct-", StringComparison.Ordinal) ? "rw" : "ro";
            r = Command.Run("unshare", ["-m", "--propagation", "private", "/bin/bash", "-c", Script, "hostile", TestEnvironment.HelperPath, _image, mnt, options],
                TimeSpan.FromMinutes(1), new Dictionary<string, string> { ["SAFEMOUNT_SOCKET"] = socket });
        }
        finally
        {
            if (!fake.HasExited)
            {
                fake.Kill();
            }

            fake.WaitForExit();
        }

        string[] errors = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(r.StdOut, Does.Contain($"exit={MountFailure}\n"), r.ToString());
            Assert.That(r.StdOut, Does.Contain("mounted=0\n"), "nothing mounted in the helper's namespace " + r);
            Assert.That(errors, Has.Length.EqualTo(1), "one line on stderr " + r);
            Assert.That(errors.FirstOrDefault() ?? string.Empty, Does.StartWith($"mount.safe.ext4: {_image}: ").And.Contain(reason), r.ToString());
        });
        AssertNoLoopDevice();
    }

    [TestCase("not-root", "is not root", null)]
    [TestCase("garbage", "truncated message", 3)]
    [TestCase("truncated", "truncated message: 3 bytes", 3)]
    [TestCase("oversized", "message larger than 65536 bytes", 5)]
    [TestCase("hello-with-fds", "Hello message carried file descriptors", 6)]
    [TestCase("request-two-fds", "carried more than 1 file descriptor", 7)]
    [TestCase("request-200-fds", "carried more than 1 file descriptor", 7)]
    [TestCase("request-socket-fd", "not a block device or regular file", 9)]
    [TestCase("fuse-fd-devnull", "the FUSE fd is not /dev/fuse", 9)]
    [TestCase("direct-no-fd", "DirectDevice message carried no file descriptor", 8)]
    [TestCase("direct-two-fds", "DirectDevice message carried more than 1 file descriptor", 7)]
    [TestCase("direct-not-odirect", "the direct-I/O fd is not open O_RDWR|O_DIRECT", 9)]
    [TestCase("direct-other-file", "the direct-I/O fd is not the device of the MOUNT_REQUEST", 9)]
    [TestCase("direct-unagreed", "DirectDevice flag without the capability agreed in HELLO", 3)]
    public void ServiceRefusesAHostileHelper(string mode, string reason, int? errorCode)
    {
        // A copy outside the worktree's root-only paths, so the not-root peer can run it too.
        string service = Path.Combine(_work, "safemount-ext4");
        if (!File.Exists(service))
        {
            File.Copy(TestEnvironment.ServicePath, service);
            CommandResult c = Command.Run("chmod", ["a+rX", service, _work, _image], TimeSpan.FromSeconds(10));
            Assert.That(c.ExitCode, Is.Zero, c.ToString());
        }

        CommandResult r = Command.Run("python3", [Path.Combine(TestEnvironment.ScriptsDir, "hostile-helper.py"), service, _image, mode], TimeSpan.FromMinutes(1));
        string[] log = r.StdOut.Split('\n').Where(l => l.StartsWith("log: ", StringComparison.Ordinal)).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            Assert.That(r.StdOut, Does.Contain("service-exit=1\n"), "the service exits 1 (setup failed) " + r);
            Assert.That(r.StdOut, Does.Not.Contain("service-timeout"), r.ToString());
            Assert.That(log.Where(l => l.Contains("setup failed: ", StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal)), Has.One.Items, "the logged error " + r);
            Assert.That(log.Where(l => l.Contains("FUSE session", StringComparison.Ordinal) || l.Contains("mounted:", StringComparison.Ordinal)), Is.Empty, "nothing was served " + r);
            if (errorCode is { } code)
            {
                Assert.That(r.StdOut, Does.Contain($"error-code={code}\n"), "the ERROR code the service answered with " + r);
            }
        });
    }

    private static Process StartFake(string socket, string mode, string log)
    {
        var psi = new ProcessStartInfo("/bin/bash") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"exec python3 '{Path.Combine(TestEnvironment.ScriptsDir, "hostile-service.py")}' '{socket}' '{mode}' >'{log}' 2>&1");
        Process p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start python3");
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!File.Exists(socket))
        {
            if (p.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"hostile-service.py did not listen: {File.ReadAllText(log)}");
            }

            Thread.Sleep(20);
        }

        return p;
    }

    /// <summary>The helper's loop device (LO_FLAGS_AUTOCLEAR) goes once no fd holds it: the helper
    /// exited and the fake, which held the device fd, is gone.</summary>
    private void AssertNoLoopDevice()
    {
        CommandResult l = Command.Run("losetup", ["-j", _image], TimeSpan.FromSeconds(10));
        for (int i = 0; i < 100 && l.StdOut.Trim().Length > 0; i++)
        {
            Thread.Sleep(50);
            l = Command.Run("losetup", ["-j", _image], TimeSpan.FromSeconds(10));
        }

        Assert.That(l.StdOut.Trim(), Is.Empty, "loop device left on the image");
    }
}
