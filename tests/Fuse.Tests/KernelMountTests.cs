using System.Diagnostics;
using System.Text.RegularExpressions;
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
        var fs = new TestFileSystem();
        var (output, _, log, session) = MountAndRun(fs, new FuseSessionOptions { WorkerThreads = 2 }, dir =>
            $"stat -c '%s %a %h %Y %W %F' {dir}/hello\n" +
            $"cat {dir}/hello\n" +
            $"ls -a {dir} | tr '\\n' ' '; echo\n" +
            $"readlink {dir}/link\n" +
            $"stat -f -c '%b %f %S' {dir}\n");
        string[] lines = output.Split('\n');
        Assert.That(lines[0], Is.EqualTo($"12 644 1 {TestFileSystem.Mtime} 1600000000 regular file"), "stat (btime via FUSE_STATX)");
        Assert.That(lines[1], Is.EqualTo("hello world"));
        Assert.That(lines[2].Trim(), Is.EqualTo(". .. hello link"));
        Assert.That(lines[3], Is.EqualTo("hello"));
        Assert.That(lines[4], Is.EqualTo("1000 500 4096"), "statfs");
        Assert.That(session.InitResult, Is.Not.Null);
        Assert.That(log.Has(1114) || log.Has(1120), Is.False, "no read failure or worker crash");
        Assert.That(log.Has(1111) || log.Has(1112), Is.False, "every kernel request was well-formed and answered");
        Assert.That(fs.LookupCounts[TestFileSystem.Hello], Is.GreaterThanOrEqualTo(0));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void EveryWriteOpcodeThroughRealSyscalls(bool writebackCache)
    {
        var fs = new TestFileSystem { IsReadOnly = false };
        string script = Path.Combine(AppContext.BaseDirectory, "scripts", "write-ops.py");
        var (output, _, log, session) = MountAndRun(fs, new FuseSessionOptions { WorkerThreads = 2, WritebackCache = writebackCache }, dir => $"python3 {script} {dir}\n");
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
        {
            "create 0o100640 3000", "readback same", "truncate 100", "hole 12288 True 4096", "seek 0 4096 8192 12288",
            "seek-past-eof ENXIO", "fallocate 16384", "fallocate-keep-size 16384", "punch 16384 4096", "zero-range ENOTSUP",
            "copy_file_range 100 True", "rename False True", "noreplace EEXIST", "exchange 100 16384", "noreplace-free False 16384",
            "link 2", "unlink 1 False", "mkdir 0o40750 ['g']", "rmdir-nonempty ENOTEMPTY", "rmdir False", "symlink some/target",
            "mkfifo 0o10600", "chmod-chown 0o100600 123 456", "utime-now-omit True True", "utime-omit-set 1600000000000000005",
            "setxattr v1", "setxattr-create EEXIST", "removexattr ENODATA", "tmpfile tmp", "o_trunc 0", "fsyncdir ok",
            "ls copy fifo hello link named sl",
        }));

        // Node ids: f 1000, copy 1001, d 1002, sl 1003, fifo 1004, the O_TMPFILE 1005; fh = 0x1000 + node.
        // Under the writeback cache the kernel adds FATTR_CTIME (and MTIME SETATTRs of its own,
        // which the in-order match skips) and WRITE comes from writeback with FUSE_WRITE_CACHE.
        string ctime = writebackCache ? ", FATTR_CTIME" : string.Empty;
        string write = writebackCache ? "writeflags=FUSE_WRITE_CACHE flags=0" : "writeflags=None flags=8001";
        AssertCallsInOrder(fs.Calls, [
            "CREATE parent=1 name=f mode=100640 umask=22 flags=80c1",
            $"WRITE node=1000 fh=13e8 offset=0 size=3000 {write}",
            "FSYNC node=1000 fh=13e8 datasync=False",
            $@"SETATTR node=1000 valid=FATTR_SIZE(, FATTR_MTIME)?, FATTR_LOCKOWNER{ctime} mode=0 uid=0 gid=0 size=100 .*",
            @"WRITE node=1000 fh=13e8 offset=8192 size=4096 .*",
            "FSYNC node=1000 fh=13e8 datasync=True",
            "LSEEK node=1000 fh=13e8 offset=0 whence=3",
            "LSEEK node=1000 fh=13e8 offset=0 whence=4",
            "LSEEK node=1000 fh=13e8 offset=4096 whence=3",
            "LSEEK node=1000 fh=13e8 offset=9000 whence=4",
            "LSEEK node=1000 fh=13e8 offset=20000 whence=3",
            "FALLOCATE node=1000 fh=13e8 offset=12288 length=4096 mode=0",
            "FALLOCATE node=1000 fh=13e8 offset=16384 length=4096 mode=1",
            "FALLOCATE node=1000 fh=13e8 offset=8192 length=4096 mode=3",
            "FALLOCATE node=1000 fh=13e8 offset=0 length=10 mode=10",
            "CREATE parent=1 name=copy mode=100644 umask=22 flags=8042",
            "COPY_FILE_RANGE in=1000 fhin=13e8 offin=0 out=1001 fhout=13e9 offout=0 len=100 flags=0",
            "RENAME parent=1 name=f newparent=1 newname=g flags=None",
            "RENAME parent=1 name=g newparent=1 newname=copy flags=RENAME_EXCHANGE",
            "RENAME parent=1 name=copy newparent=1 newname=copy2 flags=RENAME_NOREPLACE",
            "RENAME parent=1 name=copy2 newparent=1 newname=copy flags=None",
            "LINK node=1001 newparent=1 name=hard",
            "UNLINK parent=1 name=hard",
            "MKDIR parent=1 name=d mode=750 umask=22",
            "RENAME parent=1 name=g newparent=1002 newname=g flags=None",
            "RMDIR parent=1 name=d",
            "UNLINK parent=1002 name=g",
            "RMDIR parent=1 name=d",
            "SYMLINK parent=1 name=sl target=some/target",
            "MKNOD parent=1 name=fifo mode=10600 rdev=0 umask=22",
            $"SETATTR node=1000 valid=FATTR_MODE{ctime} mode=100600 .*",
            $"SETATTR node=1000 valid=FATTR_UID, FATTR_GID{ctime}, FATTR_KILL_SUIDGID mode=0 uid=123 gid=456 .*",
            $@"SETATTR node=1000 valid=FATTR_ATIME, FATTR_ATIME_NOW{ctime} .* atime=[0-9]+\.[0-9]+ mtime=0\.0",
            $@"SETATTR node=1000 valid=FATTR_MTIME{ctime} .* atime=0\.0 mtime=1600000000\.5",
            "SETXATTR node=1000 name=user.k value=v1 flags=0 setxattr_flags=0",
            "SETXATTR node=1000 name=user.k value=v2 flags=1 setxattr_flags=0",
            "REMOVEXATTR node=1000 name=user.k",
            "TMPFILE parent=1 mode=100600 umask=22 flags=418002",
            "WRITE node=1005 fh=13ed offset=0 size=3 .*",
            "LINK node=1005 newparent=1 name=named",
            "OPEN node=1005 flags=8201 kill=False",
            "FSYNCDIR node=1 fh=2001 datasync=False",
        ]);
        Assert.That(fs.Calls.Where(c => c.StartsWith("SETATTR") && c.Contains("FATTR_SIZE")).Count(), Is.EqualTo(1), "O_TRUNC went to OPEN, not SETATTR");
        Assert.That(session.InitResult!.Value.TakenFlags & (1UL << 16), Is.EqualTo(writebackCache ? 1UL << 16 : 0));
        Assert.That(log.Has(1111) || log.Has(1112) || log.Has(1121), Is.False, "every kernel request was well-formed, answered and answered validly");
    }

    /// <summary>Each pattern (a whole-line regex) matches some call after the previous match.</summary>
    private static void AssertCallsInOrder(IEnumerable<string> calls, string[] patterns)
    {
        string[] all = [.. calls];
        int at = 0;
        foreach (string pattern in patterns)
        {
            var re = new Regex($"^{pattern}$");
            int found = Array.FindIndex(all, at, c => re.IsMatch(c));
            Assert.That(found, Is.GreaterThanOrEqualTo(0), $"no call matching /{pattern}/ after call #{at}:\n{string.Join("\n", all.Skip(at))}");
            at = found + 1;
        }
    }

    [Test]
    public void TheKernelAppliesNotifications()
    {
        var fs = new TestFileSystem { ExtraFiles = 1 };
        FuseSession? session = null;
        var results = new List<(string Step, Errno Rc)>();
        byte[] changed = "changed behind the kernel\n"u8.ToArray();

        // Each "@step" line: the tree changes behind the kernel's caches (1 h timeouts,
        // FOPEN_KEEP_CACHE), then the notification tells it so.
        void OnSync(string step)
        {
            switch (step)
            {
                case "data":
                    fs.ReplaceDataBehindKernel(TestFileSystem.Hello, changed);
                    results.Add((step, session!.NotifyInvalInode(TestFileSystem.Hello, 0, 0)));
                    break;
                case "entry":
                    fs.RemoveNameBehindKernel(TestFileSystem.Root, "link");
                    results.Add((step, session!.NotifyInvalEntry(TestFileSystem.Root, "link"u8)));
                    break;
                case "delete":
                    fs.RemoveNameBehindKernel(TestFileSystem.Root, "f000");
                    results.Add((step, session!.NotifyDelete(TestFileSystem.Root, TestFileSystem.FirstExtra, "f000"u8)));
                    results.Add(("unknown-inode", session.NotifyInvalInode(424242, -1, 0)));
                    break;
            }
        }

        var (output, _, log, _) = MountAndRun(
            fs,
            new FuseSessionOptions { WorkerThreads = 2 },
            dir =>
                $"cat {dir}/hello; readlink {dir}/link; stat -c %i {dir}/f000\n" +
                "echo @data; read -r _\n" +
                $"cat {dir}/hello\n" +
                "echo @entry; read -r _\n" +
                $"test -L {dir}/link && echo link-still-there || echo link-gone\n" +
                "echo @delete; read -r _\n" +
                $"stat {dir}/f000 2>/dev/null && echo f000-still-there || echo f000-gone\n",
            s => session = s,
            OnSync);
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
        {
            "hello world", "hello", "110", "changed behind the kernel", "link-gone", "f000-gone",
        }));
        Assert.That(results, Is.EqualTo(new[] { ("data", Errno.None), ("entry", Errno.None), ("delete", Errno.None), ("unknown-inode", Errno.ENOENT) }));
        Assert.That(log.Has(1111) || log.Has(1112), Is.False);
    }

    /// <summary>
    /// Mounts <paramref name="fs"/> through /dev/fuse in a private mount namespace of a child
    /// bash, runs the commands <paramref name="commands"/> builds for the mount directory, unmounts,
    /// and returns the commands' output once the session has ended. Fails on a non-zero exit.
    /// An output line "@step" is not returned: <paramref name="onSync"/> gets "step" (with the
    /// mount still up), then the child's stdin gets a line so that its "read" returns.
    /// </summary>
    private static (string Output, string Errors, ListLogger Log, FuseSession Session) MountAndRun(
        TestFileSystem fs, FuseSessionOptions options, Func<string, string> commands, Action<FuseSession>? created = null, Action<string>? onSync = null)
    {
        if (ProcessInterop.GetEuid() != 0 || !File.Exists("/dev/fuse"))
        {
            Assert.Ignore("needs root and /dev/fuse");
        }

        string dir = Directory.CreateTempSubdirectory("safemount-fuse-test-").FullName;
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        var log = new ListLogger();
        var session = new FuseSession(new FuseDeviceFd(fuse), fs, options, log);
        created?.Invoke(session);
        Process child;
        using (SafeFd inheritable = FileInterop.DupInheritable(fuse))
        {
            int n = inheritable.Fd;
            string script =
                $"mount -t fuse -o fd={n},rootmode=40000,user_id=0,group_id=0 safemount-fuse-test {dir} || exit 90\n" +
                $"exec {n}>&-\n" +
                "echo mounted\n" +
                "set -e\n" +
                commands(dir) +
                $"umount {dir}\n";
            var psi = new ProcessStartInfo("timeout", ["60", "unshare", "-m", "--propagation", "private", "bash", "-c", script])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
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

            // INIT is answered only now: the child's first access blocks until then.
            server = new Thread(session.Run) { IsBackground = true };
            server.Start();
            Task<string> errorsTask = child.StandardError.ReadToEndAsync();
            var outputLines = new System.Text.StringBuilder();
            while (child.StandardOutput.ReadLine() is string line)
            {
                if (line.StartsWith('@'))
                {
                    onSync?.Invoke(line[1..]);
                    child.StandardInput.WriteLine();
                    child.StandardInput.Flush();
                    continue;
                }

                outputLines.Append(line).Append('\n');
            }

            string output = outputLines.ToString();
            string errors = errorsTask.Result;
            child.WaitForExit();
            Assert.That(child.ExitCode, Is.Zero, $"{errors}\n--- output:\n{output}\n--- calls:\n{string.Join("\n", fs.Calls)}");

            // Hang guard only: the connection ends with the namespace, so read() gives ENODEV.
            Assert.That(server.Join(TimeSpan.FromMinutes(1)), Is.True, "Run did not return after umount");
            return (output, errors, log, session);
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
