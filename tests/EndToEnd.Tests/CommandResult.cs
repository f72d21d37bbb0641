namespace Safemount.EndToEnd.Tests;

/// <summary>How a child process ended.</summary>
internal sealed record CommandResult(int ExitCode, string StdOut, string StdErr, bool TimedOut)
{
    public override string ToString() =>
        $"exit {ExitCode}{(TimedOut ? " (killed after timeout)" : string.Empty)}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
}
