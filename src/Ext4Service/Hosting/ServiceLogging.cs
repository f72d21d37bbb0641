using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// The service's logger factory: one line per message on stderr. Under systemd (JOURNAL_STREAM
/// set, systemd.exec(5) "Environment variables in spawned processes") the systemd console
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

    /// <summary>True when stderr is expected to be the journal.</summary>
    public static bool UnderJournal(Func<string, string?> getenv) => getenv(JournalVariable) is { Length: > 0 };

    public static ILoggerFactory Create(Func<string, string?> getenv)
    {
        LogLevel level = Enum.TryParse(getenv(LevelVariable), ignoreCase: true, out LogLevel l) ? l : LogLevel.Information;
        bool journal = UnderJournal(getenv);
        return LoggerFactory.Create(b =>
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
    }
}
