using System.Globalization;
using Safemount.Shared.DBus;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>
/// Reaching the service (ARCHITECTURE.md "Mount sequence" step 2). Launch order:
/// 1. connect to the socket (SAFEMOUNT_SOCKET, default /run/safemount/ext4.sock): socket activation;
/// 2. when it is absent (ENOENT) or nobody listens (ECONNREFUSED), and systemd is the running init
///    (/run/systemd/system exists): a transient unit with the template's hardening, through
///    systemd's D-Bus API (the private socket, else the system bus), the connection passed as its
///    standard input;
/// 3. otherwise, or when systemd's D-Bus API cannot be reached: posix_spawn of the service in a
///    new session, the connection as fd 3, stdin/stdout /dev/null, stderr /dev/null or
///    SAFEMOUNT_SERVICE_LOG, every other fd closed; the service confines itself.
/// The protocol is the same on all three paths; a socketpair's SO_PEERCRED is the helper's (uid 0).
/// </summary>
internal sealed partial class MountHelperApp
{
    public const string ServiceVariable = "SAFEMOUNT_SERVICE";
    public const string DefaultServicePath = "/usr/libexec/safemount/safemount-ext4";

    /// <summary>A file the directly spawned service appends its log (stderr) to; unset: /dev/null.</summary>
    public const string ServiceLogVariable = "SAFEMOUNT_SERVICE_LOG";

    /// <summary>Passed on to a service the helper starts itself (safemount-ext4(8) ENVIRONMENT).</summary>
    public const string LogLevelVariable = "SAFEMOUNT_LOG_LEVEL";

    /// <summary>Fds the spawn path dup2s from are moved at least this high first.</summary>
    private const int SpawnSourceFdFloor = 10;

    /// <summary>How long a failed mount waits to reap the service it spawned (it exits on EOF or ABORT).</summary>
    private static readonly TimeSpan ReapAfterFailure = TimeSpan.FromSeconds(2);

    /// <summary>The pid of the service this helper spawned directly (0: none); reaped before exit.</summary>
    private int _spawnedPid;

    private HelperClient ConnectService(string source)
    {
        string path = _getenv(SocketVariable) is { Length: > 0 } p ? p : DefaultSocketPath;
        try
        {
            HelperClient c = HelperClient.Connect(path, Timeouts);
            Say($"connected to {path} (launcher: socket activation)");
            return c;
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ECONNREFUSED)
        {
            Say($"{path}: {ErrnoException.Describe(e.Errno)}; starting the service itself");
        }
        catch (ErrnoException e)
        {
            throw new MountFailureException($"cannot reach the safemount-ext4 service at {path}: {ErrnoException.Describe(e.Errno)}");
        }
        catch (ProtocolException e)
        {
            throw new MountFailureException(Describe(e));
        }

        string service = _getenv(ServiceVariable) is { Length: > 0 } s ? s : DefaultServicePath;
        if (Directory.Exists(SystemdManager.BootedDirectory))
        {
            try
            {
                return StartTransientUnit(service, source);
            }
            catch (DBusException e) when (e.ErrorName is null && e.InnerException is ErrnoException)
            {
                // systemd runs but its D-Bus API is out of reach (a container without the socket).
                Say($"{e.Message}; spawning the service directly instead");
            }
            catch (DBusException e)
            {
                // Reached, but the conversation failed (authentication, bad reply, deadline).
                throw new MountFailureException($"starting the service as a transient unit failed: {e.Message}");
            }
        }

        return SpawnService(service);
    }

    private HelperClient StartTransientUnit(string servicePath, string source)
    {
        Deadline deadline = Deadline.After(Timeouts.Step);
        (DBusConnection bus, string address) = SystemdManager.Connect(deadline);
        using (bus)
        {
            (SafeFd mine, SafeFd theirs) = SocketInterop.SocketPair(SocketInterop.AF_UNIX, SocketInterop.SOCK_SEQPACKET);
            using (theirs)
            {
                string unit = string.Create(CultureInfo.InvariantCulture, $"safemount-ext4-{ProcessInterop.GetPid()}-{Random.Shared.Next():x8}.service");
                try
                {
                    IReadOnlyList<DBusProperty> properties = TransientServiceUnit.Properties(servicePath, TextSanitizer.OneLine(source), ServiceEnvironment());
                    string job = SystemdManager.StartTransientUnit(bus, unit, properties, [theirs], deadline);
                    Say($"started the service as transient unit {unit} through {address} (launcher: systemd transient unit, job {job})");
                }
                catch (DBusException e) when (e.ErrorName is not null)
                {
                    mine.Dispose();
                    throw new MountFailureException($"systemd refused to start the service as a transient unit: {e.Message}");
                }
                catch
                {
                    mine.Dispose();
                    throw;
                }
            }

            return new HelperClient(mine, Timeouts);
        }
    }

    private HelperClient SpawnService(string servicePath)
    {
        (SafeFd mine, SafeFd theirs) = SocketInterop.SocketPair(SocketInterop.AF_UNIX, SocketInterop.SOCK_SEQPACKET);
        SafeFd? log = null;
        try
        {
            using SafeFd connection = FileInterop.DupAbove(theirs, SpawnSourceFdFloor);
            theirs.Dispose();
            List<SpawnInterop.FileAction> actions = [new SpawnInterop.Dup2(connection, ServiceEndpoint.ActivationFd)];
            if (_getenv(ServiceLogVariable) is { Length: > 0 } logPath)
            {
                using SafeFd opened = FileInterop.Open(logPath, FileInterop.O_WRONLY | FileInterop.O_APPEND | FileInterop.O_CREAT | FileInterop.O_NOFOLLOW | FileInterop.O_NOCTTY, 0x180);
                log = FileInterop.DupAbove(opened, SpawnSourceFdFloor);
                actions.Add(new SpawnInterop.Dup2(log, 2));
            }
            else
            {
                actions.Add(new SpawnInterop.OpenAs(2, "/dev/null", FileInterop.O_WRONLY));
            }

            actions.Add(new SpawnInterop.OpenAs(0, "/dev/null", FileInterop.O_RDONLY));
            actions.Add(new SpawnInterop.OpenAs(1, "/dev/null", FileInterop.O_WRONLY));
            actions.Add(new SpawnInterop.CloseFrom(ServiceEndpoint.ActivationFd + 1));
            List<string> environment = [$"{ServiceEndpoint.DirectSpawnVariable}={ServiceEndpoint.ActivationFd}", .. ServiceEnvironment()];
            _spawnedPid = SpawnInterop.Spawn(servicePath, [servicePath], environment, actions, newSession: true);
            Say($"started {servicePath} directly as pid {_spawnedPid} in a new session (launcher: direct spawn)");
            return new HelperClient(mine, Timeouts);
        }
        catch (ErrnoException e)
        {
            mine.Dispose();
            throw new MountFailureException($"cannot start the safemount-ext4 service {servicePath}: {e.Message}");
        }
        catch
        {
            mine.Dispose();
            throw;
        }
        finally
        {
            theirs.Dispose();
            log?.Dispose();
        }
    }

    /// <summary>The helper's variables a service it starts itself inherits: only the log level.</summary>
    private List<string> ServiceEnvironment() =>
        _getenv(LogLevelVariable) is { Length: > 0 } level ? [$"{LogLevelVariable}={level}"] : [];

    /// <summary>
    /// Reaps a directly spawned service that has already ended, so none is left a zombie while
    /// the helper runs; after a failed mount it waits up to <see cref="ReapAfterFailure"/> for it
    /// to end (it sees EOF or ABORT). One still running when the helper exits is inherited by init.
    /// Never throws: it runs on the success path and in the error handlers.
    /// </summary>
    private void ReapSpawnedService(bool mountFailed)
    {
        if (_spawnedPid == 0)
        {
            return;
        }

        Deadline deadline = Deadline.After(mountFailed ? ReapAfterFailure : TimeSpan.Zero);
        while (true)
        {
            bool ended;
            int status;
            try
            {
                ended = SpawnInterop.TryReap(_spawnedPid, out status);
            }
            catch (ErrnoException)
            {
                // ECHILD: SIGCHLD is ignored (inherited SIG_IGN), so the kernel reaps it itself.
                _spawnedPid = 0;
                return;
            }

            if (ended)
            {
                Say($"the service (pid {_spawnedPid}) ended with wait status 0x{status:x}");
                _spawnedPid = 0;
                return;
            }

            if (deadline.IsExpired)
            {
                return;
            }

            Thread.Sleep(20);
        }
    }
}
