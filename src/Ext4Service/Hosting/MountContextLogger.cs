using Microsoft.Extensions.Logging;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// The one logger of a service process. Every message it passes on starts with the current
/// context, "CONTEXT: message": the helper connection ("helper pid N, uid U") until the mount
/// request has arrived, then "DEVICE on MOUNTPOINT" for the rest of the process (FUSE worker
/// threads included, since they log through this instance). The context is a prefix of the
/// formatted message rather than a logging scope so that it is on the message line with every
/// formatter (systemd's and the plain one) and does not depend on the AsyncLocal flow of scopes
/// into threads.
/// </summary>
internal sealed class MountContextLogger : ILogger
{
    private readonly ILogger _inner;
    private volatile string _context;

    public MountContextLogger(ILogger inner, string context)
    {
        _inner = inner;
        _context = context;
    }

    public string Context
    {
        get => _context;
        set => _context = value;
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => _inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string context = _context;
        _inner.Log(logLevel, eventId, state, exception, (s, e) => $"{context}: {formatter(s, e)}");
    }
}
