using Microsoft.Extensions.Logging;
using Safemount.Ext4Service.Hosting;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Ext4Service;

/// <summary>
/// safemount-ext4: one process per mount, started by socket activation
/// (safemount-ext4.socket, Accept=yes) with the helper's connection as fd 3. It logs to stderr
/// (the journal under systemd); SAFEMOUNT_LOG_LEVEL=Debug|Information|Warning picks the level.
/// Exit status: 0 after a clean unmount, 1 when the mount was refused or setup failed,
/// 2 on an unexpected failure.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "-h" or "--help")
        {
            Console.Out.Write(
                """
                Usage: safemount-ext4

                The safemount ext4 service. It is not run by hand: systemd starts one instance
                per mount from safemount-ext4.socket (or mount.safe.ext4 starts it directly when
                no socket unit is installed), and it talks to mount.safe.ext4 over the connected
                socket it inherits as fd 3 (LISTEN_FDS=1 and LISTEN_PID, or SAFEMOUNT_SOCKET_FD).
                It receives the block device and /dev/fuse as file descriptors, reads the ext4
                filesystem on the device, and serves it to the kernel over FUSE until unmount.

                Environment:
                  SAFEMOUNT_LOG_LEVEL   Debug, Information (default), Warning or Error

                """);
            return 0;
        }

        LogLevel level = Enum.TryParse(Environment.GetEnvironmentVariable("SAFEMOUNT_LOG_LEVEL"), ignoreCase: true, out LogLevel l)
            ? l
            : LogLevel.Information;
        using ILoggerFactory factory = LoggerFactory.Create(b => b
            .SetMinimumLevel(level)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = false;
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        ILogger logger = factory.CreateLogger("safemount-ext4");

        try
        {
            using ServiceEndpoint endpoint = ServiceEndpoint.FromSocketActivation();
            return new MountService(logger).Run(endpoint);
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
