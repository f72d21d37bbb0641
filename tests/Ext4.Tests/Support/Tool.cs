using System.Diagnostics;

namespace Safemount.Ext4.Tests.Support;

/// <summary>Runs external programs (mkfs.ext4, debugfs, e2fsck, setfattr...) and captures their output.</summary>
internal static class Tool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/>; kills it after <paramref name="timeoutSeconds"/>.</summary>
    public static Result Run(string file, IEnumerable<string> args, int timeoutSeconds = 300, string? workDir = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }

        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and requires exit code 0.</summary>
    public static string Check(string file, params string[] args)
    {
        var r = Run(file, args);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}{r.Stdout}");
        }

        return r.Stdout;
    }

    /// <summary>debugfs -R <paramref name="request"/> on <paramref name="image"/> (read-only open).</summary>
    public static string Debugfs(string image, string request) => Check("debugfs", "-R", request, image);

    /// <summary>e2fsck -fn under a timeout; true when the image is clean.</summary>
    public static bool FsckClean(string image, out string output)
    {
        var r = Run("timeout", ["120", "e2fsck", "-fn", image], 150);
        output = r.Stdout + r.Stderr;
        return r.ExitCode == 0;
    }
}
