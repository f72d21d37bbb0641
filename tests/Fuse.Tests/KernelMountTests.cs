using System.Diagnostics;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>
/// The real kernel: a plain `fuse` mount on /dev/fuse served by a FuseSession over
/// <see cref="FuseDeviceFd"/>, inspected with stat/cat/ls/readlink from a child process. The
/// mount lives in a private mount namespace of that child (unshare -m), so it disappears with
/// the child even if the test fails; the kernel then ends the connection (ENODEV) and Run returns.
/// </summary>
[NonParallelizable]
public class KernelMountTests
{
    [Test]
    public void StatCatLsReadlinkThroughTheKernel()
    {
        if (ProcessInterop.GetEuid() != 0 || !File.Exists("/dev/fuse"))
        {
            Assert.Ignore("needs root and /dev/fuse");
        }

        string dir = Directory.CreateTempSubdirectory("safemount-fuse-test-").FullName;
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        var fs = new TestFileSystem();
        var log = new ListLogger();
        var session = new FuseSession(new FuseDeviceFd(fuse), fs, new FuseSessionOptions { WorkerThreads = 2 }, log);
        Process child;
        using (SafeFd inheritable = FileInterop.DupInheritable(fuse))
        {
            int n = inheritable.Fd;
            string script =
                $"mount -t fuse -o fd={n},rootmode=40000,user_id=0,group_id=0 safemount-fuse-test {dir} || exit 90\n" +
                $"exec {n}>&-\n" +
                "echo mounted\n" +
                $"stat -c '%s %a %h %Y %W %F' {dir}/hello\n" +
                $"cat {dir}/hello\n" +
                $"ls -a {dir} | tr '\\n' ' '; echo\n" +
                $"readlink {dir}/link\n" +
                $"stat -f -c '%b %f %S' {dir}\n" +
                $"umount {dir}\n";
            var psi = new ProcessStartInfo("timeout", ["60", "unshare", "-m", "--propagation", "private", "bash", "-c", script])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            child = Process.Start(psi)!;
        }

        Thread? server = null;
        try
        {
            string? first = child.StandardOutput.ReadLine();
            if (first != "mounted")
            {
                child.WaitForExit();
                Assert.Fail($"mount failed (exit {child.ExitCode}): {first} {child.StandardError.ReadToEnd()}");
            }

            // INIT is answered only now: the child's stat blocks until then.
            server = new Thread(session.Run) { IsBackground = true };
            server.Start();
            string output = child.StandardOutput.ReadToEnd();
            string errors = child.StandardError.ReadToEnd();
            child.WaitForExit();
            Assert.That(child.ExitCode, Is.Zero, errors);
            string[] lines = output.Split('\n');
            Assert.That(lines[0], Is.EqualTo($"12 644 1 {TestFileSystem.Mtime} 1600000000 regular file"), "stat (btime via FUSE_STATX)");
            Assert.That(lines[1], Is.EqualTo("hello world"));
            Assert.That(lines[2].Trim(), Is.EqualTo(". .. hello link"));
            Assert.That(lines[3], Is.EqualTo("hello"));
            Assert.That(lines[4], Is.EqualTo("1000 500 4096"), "statfs");

            // Hang guard only: the connection ends with the namespace, so read() gives ENODEV.
            Assert.That(server.Join(TimeSpan.FromMinutes(1)), Is.True, "Run did not return after umount");
            Assert.That(session.InitResult, Is.Not.Null);
            Assert.That(log.Has(1114) || log.Has(1120), Is.False, "no read failure or worker crash");
            Assert.That(log.Has(1111) || log.Has(1112), Is.False, "every kernel request was well-formed and answered");
            Assert.That(fs.LookupCounts[TestFileSystem.Hello], Is.GreaterThanOrEqualTo(0));
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                child.WaitForExit();
            }

            child.Dispose();
            if (server is null || !server.Join(TimeSpan.FromSeconds(30)))
            {
                // Not served (or stuck): closing our fd lets nothing linger once the child is gone.
                fuse.Dispose();
            }

            Directory.Delete(dir);
        }
    }
}
