using Safemount.Shared.Interop;

namespace Safemount.Shared.Protocol;

/// <summary>Socket activation: systemd's LISTEN_FDS protocol, or the helper's direct spawn.</summary>
public sealed partial class ServiceEndpoint
{
    /// <summary>sd_listen_fds(3): the first passed fd.</summary>
    public const int ActivationFd = 3;

    /// <summary>
    /// Set by mount.safe.ext4 when it starts the service itself: "3" when it spawns it directly
    /// (no LISTEN_PID possible with posix_spawn), "0" when it starts a transient systemd unit
    /// (the connection is the unit's StandardInputFileDescriptor=, which systemd installs as fd 0).
    /// </summary>
    public const string DirectSpawnVariable = "SAFEMOUNT_SOCKET_FD";

    /// <summary>The connection's fd in a transient unit: its standard input.</summary>
    public const int TransientUnitFd = 0;

    /// <summary>
    /// Takes the connection to the helper: fd 3 when LISTEN_PID == getpid() and LISTEN_FDS == 1
    /// (systemd, Accept=yes) or SAFEMOUNT_SOCKET_FD == 3 (direct spawn); fd 0 when
    /// SAFEMOUNT_SOCKET_FD == 0 (transient unit). Unsets LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES
    /// and SAFEMOUNT_SOCKET_FD, sets FD_CLOEXEC, checks that the fd is a SOCK_SEQPACKET socket
    /// whose peer (SO_PEERCRED) is uid 0.
    /// Throws <see cref="ProtocolException"/> (PermissionDenied) otherwise.
    /// </summary>
    public static ServiceEndpoint FromSocketActivation(ProtocolTimeouts? timeouts = null)
    {
        string? listenPid = Environment.GetEnvironmentVariable("LISTEN_PID");
        string? listenFds = Environment.GetEnvironmentVariable("LISTEN_FDS");
        string? direct = Environment.GetEnvironmentVariable(DirectSpawnVariable);
        foreach (string name in new[] { "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", DirectSpawnVariable })
        {
            ProcessInterop.UnsetEnvironment(name);
        }

        int fd = CheckActivation(listenPid, listenFds, direct, ProcessInterop.GetPid());
        SafeFd socket = new(fd);
        try
        {
            FileInterop.SetCloseOnExec(socket);
            if (SocketInterop.GetSocketType(socket) != SocketInterop.SOCK_SEQPACKET)
            {
                throw new ProtocolException(ProtocolErrorCode.PermissionDenied, $"fd {fd} is not a SOCK_SEQPACKET socket");
            }

            CheckPeerIsRoot(socket);
            return new ServiceEndpoint(socket, timeouts);
        }
        catch (ErrnoException e)
        {
            socket.Dispose();
            throw new ProtocolException(ProtocolErrorCode.PermissionDenied, $"fd {fd} is not a usable socket: {e.Message}", inner: e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The activation environment rules, apart from the process state (testable); returns the connection's fd.</summary>
    internal static int CheckActivation(string? listenPid, string? listenFds, string? direct, int pid)
    {
        if (listenPid is not null || listenFds is not null)
        {
            if (listenPid != pid.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw new ProtocolException(ProtocolErrorCode.PermissionDenied, $"LISTEN_PID={listenPid} is not this process ({pid})");
            }

            if (listenFds != "1")
            {
                throw new ProtocolException(ProtocolErrorCode.PermissionDenied, $"LISTEN_FDS={listenFds}, expected exactly 1 (Accept=yes)");
            }

            return ActivationFd;
        }

        return direct switch
        {
            "3" => ActivationFd,
            "0" => TransientUnitFd,
            _ => throw new ProtocolException(ProtocolErrorCode.PermissionDenied, "not socket-activated: neither LISTEN_PID/LISTEN_FDS nor SAFEMOUNT_SOCKET_FD=3 (direct spawn) or =0 (transient unit) is set"),
        };
    }

    /// <summary>SO_PEERCRED uid must be 0: only root's mount helper may talk to the service.</summary>
    internal static void CheckPeerIsRoot(SafeFd socket)
    {
        PeerCredentials cred = SocketInterop.GetPeerCredentials(socket);
        if (cred.uid != 0)
        {
            throw new ProtocolException(ProtocolErrorCode.PermissionDenied, $"peer uid {cred.uid} (pid {cred.pid}) is not root");
        }
    }
}
