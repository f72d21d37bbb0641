using System.Diagnostics;

namespace Safemount.EndToEnd.Tests;

/// <summary>Runs a child process with a hard deadline; a child that overstays is killed with its
/// whole process tree, so a hang becomes a failed test, never a stuck run.</summary>
internal static class Command
{
    public static CommandResult Run(string file, IEnumerable<string> args, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (env is not null)
        {
            foreach (var kv in env)
            {
                psi.Environment[kv.Key] = kv.Value;
            }
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        bool exited = p.WaitForExit(timeout);
        if (!exited)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }

        return new CommandResult(exited ? p.ExitCode : -1, stdout.Result, stderr.Result, !exited);
    }

    public static CommandResult Bash(string script, TimeSpan timeout, IDictionary<string, string>? env = null) =>
        Run("/bin/bash", ["-c", script], timeout, env);
}
