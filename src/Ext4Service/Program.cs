using System.CommandLine;
using Safemount.Ext4Service.Hosting;
using Safemount.Ext4Service.Sandbox;
using Safemount.Shared.CommandLine;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Ext4Service;

/// <summary>
/// safemount-ext4: one process per mount, started by socket activation
/// (safemount-ext4.socket, Accept=yes) with the helper's connection as fd 3. It logs to stderr
/// (the journal under systemd, <see cref="ServiceLogging"/>). The command line (System.CommandLine)
/// is empty, "--self-test", "--help" or "--version"; anything else is a usage error (exit 1).
/// Exit status: 0 after a clean unmount, 1 when the mount was refused, setup failed or the
/// command line was wrong, 2 on an unexpected failure.
/// </summary>
internal static class Program
{
    public const string Name = "safemount-ext4";

    public const string HelpText = """
        Usage:
         safemount-ext4
         safemount-ext4 --self-test
         safemount-ext4 -h|--help | -V|--version

        The safemount ext4 service. It is not run by hand: systemd starts one instance
        per mount from safemount-ext4.socket (or mount.safe.ext4 starts it directly when
        no socket unit is installed), and it talks to mount.safe.ext4 over the connected
        socket it inherits as fd 3 (LISTEN_FDS=1 and LISTEN_PID, or SAFEMOUNT_SOCKET_FD=3),
        or as fd 0 in a transient unit (SAFEMOUNT_SOCKET_FD=0).
        It receives the block device and /dev/fuse as file descriptors, reads the ext4
        filesystem on the device, and serves it to the kernel over FUSE until unmount.

        Sandbox: before it reads the device the service confines itself, however it
        was started: a root start switches to nobody (65534); all capabilities are
        dropped, no_new_privs is set, file descriptor and process limits tightened,
        a Landlock domain with no file system access entered, and a seccomp
        allowlist installed (denied calls fail with EPERM).

         --self-test   apply the same confinement without a helper, then prove from
                       inside that opening paths, creating files, AF_INET/AF_NETLINK
                       sockets, ptrace, mount and execve all fail; one line per
                       probe, exit 0 only when every probe was blocked

        Logging: one line per message on stderr, each naming the device and the mount
        point once the mount request has arrived (the helper's pid before that). When
        stderr is the journal (JOURNAL_STREAM names it, as systemd sets it) lines carry
        syslog priority prefixes ("<6>"); otherwise they are plain ("info: ...").

        Environment:
         SAFEMOUNT_LOG_LEVEL   Trace, Debug, Information (default), Warning or Error
         JOURNAL_STREAM        DEVICE:INODE of the journal stream, set by systemd

        Exit status: 0 after a clean unmount, 1 mount refused, setup or usage error,
        2 unexpected failure.

        """;

    private static int Main(string[] args)
    {
        MountTimeline timeline = MountTimeline.Start();

        // Before anything else: inherited descriptors (no FD_CLOEXEC) other than fd 3 go.
        IReadOnlyList<string> closedAtStartup;
        try
        {
            closedAtStartup = ServiceSandbox.CloseInheritedAtStartup();
            timeline.Mark("inherited fds");
        }
        catch (SandboxException e)
        {
            Console.Error.WriteLine($"{Name}: {e.Message}");
            return 1;
        }

        RootCommand root = ProgramCommand.Create(Name, "the safemount ext4 service (one process per mount)", HelpText);
        var selfTest = new Option<bool>("--self-test") { Description = "confine the process and prove the sandbox from inside" };
        root.Options.Add(selfTest);
        root.SetAction(parsed => parsed.GetValue(selfTest) ? SelfTest.Run(Console.Out) : Serve(closedAtStartup, timeline));
        return ProgramCommand.Invoke(root, Name, args, Console.Out, Console.Error);
    }

    private static int Serve(IReadOnlyList<string> closedAtStartup, MountTimeline timeline)
    {
        timeline.Mark("command line");

        // The factory is built on its own thread once the mount is complete (MountService);
        // until then the logger keeps what is logged. Disposing writes everything out.
        using LoggerStartup logging = LoggerStartup.Prepare(Environment.GetEnvironmentVariable);
        var logger = new MountContextLogger(logging.Logger, "no helper connection yet");
        foreach (string fd in closedAtStartup)
        {
            SandboxLog.ClosedInheritedFd(logger, fd);
        }

        try
        {
            using ServiceEndpoint endpoint = ServiceEndpoint.FromSocketActivation();
            return new MountService(logger, timeline, logging).Run(endpoint);
        }
        catch (ProtocolException e)
        {
            ServiceLog.SetupFailed(logger, e.Message);
            return 1;
        }
        catch (ErrnoException e)
        {
            ServiceLog.SetupFailed(logger, e.Message);
            return 1;
        }
        catch (Exception e)
        {
            ServiceLog.Crashed(logger, e);
            return 2;
        }
    }
}
