using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// The service's logger factory: one line per message on stderr. Under systemd (JOURNAL_STREAM
/// names stderr, systemd.exec(5) "Environment variables in spawned processes") the systemd console
/// formatter prefixes each line with its syslog priority ("&lt;6&gt;" for information,
/// sd-daemon(3)), which journald stores as the PRIORITY field and strips; otherwise a plain
/// single-line formatter ("info: category[event] message") without colours or timestamps.
/// SAFEMOUNT_LOG_LEVEL (a LogLevel name) sets the minimum level; Information by default.
/// </summary>
internal static class ServiceLogging
{
    public const string JournalVariable = "JOURNAL_STREAM";
    public const string LevelVariable = "SAFEMOUNT_LOG_LEVEL";
    public const string Category = "safemount-ext4";

    /// <summary>
    /// True when stderr is the journal: JOURNAL_STREAM is "DEVICE:INODE" (st_dev and st_ino in
    /// decimal) and names the file stderr is open on. systemd.exec(5) asks for this check: the
    /// variable is inherited by children whose stderr may have been redirected elsewhere.
    /// </summary>
    public static bool UnderJournal(string? journalStream, StatxResult stderr)
    {
        if (journalStream is null)
        {
            return false;
        }

        int colon = journalStream.IndexOf(':');
        return colon > 0
            && ulong.TryParse(journalStream.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out ulong dev)
            && ulong.TryParse(journalStream.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong ino)
            && dev == MakeDev(stderr.DevMajor, stderr.DevMinor)
            && ino == stderr.Inode;
    }

    /// <summary>glibc's makedev(3) encoding of a dev_t, as st_dev is printed into JOURNAL_STREAM.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8)
        | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    /// <summary>SAFEMOUNT_LOG_LEVEL as a <see cref="LogLevel"/> name (any case); Information when unset or unknown.</summary>
    public static LogLevel MinimumLevel(Func<string, string?> getenv) =>
        Enum.TryParse(getenv(LevelVariable), ignoreCase: true, out LogLevel l) ? l : LogLevel.Information;

    /// <summary>True when JOURNAL_STREAM names the file stderr is open on (<see cref="UnderJournal(string?, StatxResult)"/>).</summary>
    public static bool StderrIsJournal(Func<string, string?> getenv) =>
        getenv(JournalVariable) is { } stream && StderrStat() is { } stderr && UnderJournal(stream, stderr);

    public static ILoggerFactory Create(Func<string, string?> getenv) => Create(MinimumLevel(getenv), StderrIsJournal(getenv));

    /// <summary>The factory for a minimum level and formatter choice already read from the
    /// environment (<see cref="MinimumLevel"/>, <see cref="StderrIsJournal"/>), so that it can be
    /// built inside the sandbox (<see cref="LoggerStartup"/>): what it does there is Console's
    /// dup of fd 2 and the console logger's output thread.</summary>
    public static ILoggerFactory Create(LogLevel level, bool journal) =>
        LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(level);
            if (journal)
            {
                b.AddSystemdConsole(o =>
                {
                    o.IncludeScopes = false;
                    o.TimestampFormat = null;
                });
            }
            else
            {
                b.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.IncludeScopes = false;
                    o.TimestampFormat = null;
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                });
            }

            // stdout is not the log: everything goes to stderr (the journal under systemd).
            b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });

    private static StatxResult? StderrStat()
    {
        try
        {
            using SafeFd stderr = new(2, ownsHandle: false);
            return FileInterop.FStat(stderr);
        }
        catch (ErrnoException)
        {
            return null;
        }
    }
}
