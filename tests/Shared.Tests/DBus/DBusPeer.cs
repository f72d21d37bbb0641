using System.Diagnostics;

namespace Safemount.Shared.Tests.DBus;

/// <summary>
/// dbus-peer.py (beside this file) as a real peer process: a D-Bus server written from the spec
/// independently of src/Shared/DBus, listening on a private socket, recording every message it
/// receives. Dispose kills it and removes its files.
/// </summary>
internal sealed class DBusPeer : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    public DBusPeer(string mode)
    {
        _dir = Directory.CreateTempSubdirectory("safemount-dbus-").FullName;
        SocketPath = Path.Combine(_dir, "peer.sock");
        RecordPath = Path.Combine(_dir, "record");
        ProcessStartInfo psi = new("python3") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(RepoRoot, "tests", "Shared.Tests", "DBus", "dbus-peer.py"));
        psi.ArgumentList.Add(SocketPath);
        psi.ArgumentList.Add(RecordPath);
        psi.ArgumentList.Add(mode);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start python3");
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!File.Exists(SocketPath))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"dbus-peer.py did not listen: {_process.StandardError.ReadToEnd()}");
            }

            Thread.Sleep(20);
        }
    }

    public static string RepoRoot { get; } = FindRepoRoot();

    public string SocketPath { get; }

    public string RecordPath { get; }

    /// <summary>The messages received so far: member, fd count, fd kinds, the raw bytes.</summary>
    public List<(string Member, int Fds, string Kinds, byte[] Bytes)> Records()
    {
        var list = new List<(string, int, string, byte[])>();
        if (!File.Exists(RecordPath))
        {
            return list;
        }

        foreach (string line in File.ReadAllLines(RecordPath))
        {
            string[] f = line.Split(' ');
            list.Add((f[0], int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), f[2], Convert.FromHexString(f[3])));
        }

        return list;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static string FindRepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "safemount.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("safemount.sln not found above the test binaries");
    }
}
