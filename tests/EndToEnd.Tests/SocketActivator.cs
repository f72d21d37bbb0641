using System.Diagnostics;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The real socket-activation protocol without a running systemd: `systemd-socket-activate
/// --seqpacket --accept` listens on a private socket and starts one safemount-ext4 per
/// connection with fd 3, LISTEN_FDS and LISTEN_PID, as safemount-ext4.socket does. It runs in a
/// session of its own, so Dispose kills it and every service it started.
/// </summary>
internal sealed class SocketActivator : IDisposable
{
    private readonly Process _process;

    /// <param name="serviceEnvironment">variables set for each service (systemd-socket-activate -E),
    /// e.g. JOURNAL_STREAM as systemd sets it.</param>
    /// <param name="servicePrelude">bash commands run in each service's process before it execs
    /// the service (same pid, so LISTEN_PID still matches), e.g. redirections that leave it
    /// inherited descriptors.</param>
    public SocketActivator(string workDir, IReadOnlyDictionary<string, string>? serviceEnvironment = null, string? servicePrelude = null)
    {
        SocketPath = Path.Combine(workDir, "ext4.sock");
        LogPath = LogPathFor(workDir);
        // A socket file left by an earlier activator in the same directory would satisfy the
        // wait below before the new listener is bound, and a quick client gets ECONNREFUSED.
        File.Delete(SocketPath);
        var psi = new ProcessStartInfo("/bin/bash") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(
            $"exec setsid systemd-socket-activate --seqpacket --accept -l '{SocketPath}'{EnvironmentArguments(serviceEnvironment)} {ServiceCommand(servicePrelude)} >>'{LogPath}' 2>&1");
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start systemd-socket-activate");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!File.Exists(SocketPath))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"systemd-socket-activate did not create {SocketPath}: {Log}");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>The file the services' stderr is appended to (it may be created beforehand).</summary>
    public static string LogPathFor(string workDir) => Path.Combine(workDir, "service.log");

    public string SocketPath { get; }

    public string LogPath { get; }

    /// <summary>What the services wrote to stderr (their log).</summary>
    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : string.Empty;

    /// <summary>The environment that points mount.safe.ext4 at this listener.</summary>
    public Dictionary<string, string> HelperEnvironment => new() { ["SAFEMOUNT_SOCKET"] = SocketPath };

    /// <summary>Pids of running safemount-ext4 processes started from the binary under test.</summary>
    public static List<int> ServicePids()
    {
        var pids = new List<int>();
        foreach (string d in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out int pid))
            {
                continue;
            }

            try
            {
                if (new FileInfo(Path.Combine(d, "exe")).LinkTarget == TestEnvironment.ServicePath)
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return pids;
    }

    /// <summary>Waits until every service process has exited (after umount a fuseblk service
    /// gets DESTROY and must end by itself); fails the test if one is still there.</summary>
    public void AssertServicesExit(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (OwnServicePids().Count > 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }

        Assert.That(OwnServicePids(), Is.Empty, $"safemount-ext4 still running after umount; log:\n{Log}");
    }

    /// <summary>
    /// The service processes this activator started: they run in its session (setsid made the
    /// activator a session leader), so services of other mounts on the machine do not count.
    /// </summary>
    private List<int> OwnServicePids() =>
        ServicePids().Where(pid => SessionOf(pid) == _process.Id).ToList();

    /// <summary>Field 6 of /proc/PID/stat (session id); -1 when the process is gone.</summary>
    private static int SessionOf(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    private static string ServiceCommand(string? prelude) =>
        prelude is null
            ? $"'{TestEnvironment.ServicePath}'"
            : $"/bin/bash -c {ShellQuote(prelude + "; exec \"$0\"")} '{TestEnvironment.ServicePath}'";

    private static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static string EnvironmentArguments(IReadOnlyDictionary<string, string>? environment) =>
        environment is null ? string.Empty : string.Concat(environment.Select(kv => $" -E '{kv.Key}={kv.Value}'"));

    public void Dispose()
    {
        try
        {
            Command.Run("/bin/kill", ["-TERM", "--", $"-{_process.Id}"], TimeSpan.FromSeconds(5));
            if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                Command.Run("/bin/kill", ["-KILL", "--", $"-{_process.Id}"], TimeSpan.FromSeconds(5));
            }

            // Only this activator's services: killing every safemount-ext4 on the machine ended
            // other test runs' and bench/run's mounts on a shared machine.
            foreach (int pid in OwnServicePids())
            {
                Command.Run("/bin/kill", ["-KILL", pid.ToString()], TimeSpan.FromSeconds(5));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
