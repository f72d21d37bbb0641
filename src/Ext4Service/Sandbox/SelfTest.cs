using System.Globalization;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// safemount-ext4 --self-test: confines the process with <see cref="ServiceSandbox.Confine"/>
/// (the serving path's code, with no descriptors handed over) and then proves from inside that
/// each escape is refused. One line per check; exit 0 only when every probe was blocked.
/// </summary>
/// <remarks>
/// A probe counts as blocked only when the call fails with EPERM (seccomp's default action, or
/// a missing capability) or EACCES (Landlock). Any other result, including ENOENT, means the
/// call reached the kernel's implementation and is reported as not blocked. Targets are chosen
/// so that an unconfined run does no harm: the mount target does not exist, ptrace uses
/// PTRACE_SEIZE (which does not stop the tracee) and detaches at once, a created file is
/// removed, and execve runs /bin/false, so an exec that got through still exits non-zero.
/// </remarks>
internal static class SelfTest
{
    private const string MountTarget = "/nonexistent-safemount-self-test";

    public static int Run(TextWriter output)
    {
        SandboxReport report;
        try
        {
            report = ServiceSandbox.Confine([]);
        }
        catch (SandboxException e)
        {
            output.WriteLine($"FAIL confinement: {e.Message}");
            return 1;
        }

        output.WriteLine($"confined: uid {report.Uid} gid {report.Gid}{(report.SwitchedIdentity ? " (switched from root)" : string.Empty)}, "
            + $"RLIMIT_NOFILE {report.NoFileLimit}, RLIMIT_NPROC {report.NProcLimit}, RLIMIT_CORE 0, "
            + $"Landlock {(report.LandlockAbi > 0 ? $"ABI {report.LandlockAbi}" : report.LandlockUnavailable)}, seccomp {report.SeccompInstructions} instructions");
        if (report.BoundingSetLeft != 0)
        {
            output.WriteLine($"note: bounding set keeps {report.BoundingSetLeft:x} (started unprivileged without CAP_SETPCAP; inert under no_new_privs)");
        }

        int failed = 0;
        failed += Check(output, "no_new_privs is set", PrctlInterop.GetNoNewPrivs());
        failed += Check(output, "seccomp filter mode", PrctlInterop.GetSeccompMode() == 2);
        (ulong eff, ulong prm, ulong inh) = CapabilityInterop.Get();
        failed += Check(output, "no effective, permitted or inheritable capabilities", (eff | prm | inh) == 0);

        int pid = ProcessInterop.GetPid();
        int parent = ProcessInterop.GetParentPid();
        string created = $"/tmp/safemount-self-test-{pid.ToString(CultureInfo.InvariantCulture)}";
        failed += Probe(output, "open /etc/passwd for reading", () => OpenAndClose("/etc/passwd", FileInterop.O_RDONLY));
        failed += Probe(output, "open / as a directory", () => OpenAndClose("/", FileInterop.O_RDONLY | FileInterop.O_DIRECTORY));
        failed += Probe(output, $"create {created}", () =>
        {
            Errno e = OpenAndClose(created, FileInterop.O_WRONLY | FileInterop.O_CREAT | FileInterop.O_EXCL, 0x180 /* 0600 */);
            if (e == Errno.None)
            {
                File.Delete(created);
            }

            return e;
        });
        failed += Probe(output, "open /dev/null for writing", () => OpenAndClose("/dev/null", FileInterop.O_WRONLY));
        failed += Probe(output, "open /proc/self/mem for writing", () => OpenAndClose("/proc/self/mem", FileInterop.O_RDWR));
        failed += Probe(output, "socket(AF_INET, SOCK_STREAM)", () => SocketAndClose(SocketInterop.AF_INET, SocketInterop.SOCK_STREAM, 0));
        failed += Probe(output, "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", () => SocketAndClose(SocketInterop.AF_NETLINK, SocketInterop.SOCK_RAW, 0));
        failed += Probe(output, "socket(AF_UNIX, SOCK_STREAM)", () => SocketAndClose(SocketInterop.AF_UNIX, SocketInterop.SOCK_STREAM, 0));
        failed += Probe(output, $"ptrace(PTRACE_SEIZE, parent {parent})", () =>
        {
            Errno e = ProcessInterop.Ptrace(ProcessInterop.PTRACE_SEIZE, parent);
            if (e == Errno.None)
            {
                ProcessInterop.Ptrace(ProcessInterop.PTRACE_DETACH, parent);
            }

            return e;
        });
        failed += Probe(output, $"mount tmpfs on {MountTarget}", () =>
        {
            try
            {
                MountInterop.Mount("tmpfs", MountTarget, "tmpfs", 0, null);
                MountInterop.Umount2(MountTarget, 0);
                return Errno.None;
            }
            catch (ErrnoException e)
            {
                return e.Errno;
            }
        });

        // Last: if it got through, this process becomes /bin/false and exits 1.
        output.Flush();
        failed += Probe(output, "execve /bin/false", () => ProcessInterop.Execve("/bin/false"));

        output.WriteLine(failed == 0 ? "PASS: every probe was blocked" : $"FAIL: {failed} check(s) did not hold");
        return failed == 0 ? 0 : 1;
    }

    private static int Check(TextWriter output, string what, bool holds)
    {
        output.WriteLine($"{(holds ? "ok     " : "FAIL   ")} {what}");
        return holds ? 0 : 1;
    }

    private static int Probe(TextWriter output, string what, Func<Errno> call)
    {
        Errno e = call();
        bool blocked = e is Errno.EPERM or Errno.EACCES;
        string outcome = e == Errno.None ? "succeeded" : ErrnoException.Describe(e);
        output.WriteLine($"{(blocked ? "blocked" : "ALLOWED")} {what}: {outcome}");
        output.Flush();
        return blocked ? 0 : 1;
    }

    private static Errno OpenAndClose(string path, int flags, int mode = 0)
    {
        try
        {
            FileInterop.Open(path, flags, mode).Dispose();
            return Errno.None;
        }
        catch (ErrnoException e)
        {
            return e.Errno;
        }
    }

    private static Errno SocketAndClose(int domain, int type, int protocol)
    {
        try
        {
            SocketInterop.Socket(domain, type, protocol).Dispose();
            return Errno.None;
        }
        catch (ErrnoException e)
        {
            return e.Errno;
        }
    }
}
