using Microsoft.Extensions.Logging;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// The service's logger while its factory is still being built (<see cref="LoggerStartup"/>).
/// Until <see cref="Attach"/>, every enabled message is kept in order with its level, event id,
/// exception and its text as formatted at the call (so a <see cref="MountContextLogger"/>
/// context is the one of that moment); <see cref="Attach"/> writes them through the real logger
/// before anything logged later, then every call goes straight through.
/// </summary>
/// <remarks>
/// Thread-safe. Lock order: <see cref="_lock"/> is taken alone; the real logger is called under
/// it only while the kept messages are written and while <see cref="_inner"/> is still null, so
/// no message logged after Attach can overtake a kept one.
/// </remarks>
internal sealed class DeferredLogger : ILogger
{
    private readonly Lock _lock = new();
    private readonly LogLevel _minimum;
    private List<(LogLevel Level, EventId EventId, string Text, Exception? Exception)>? _kept = [];
    private volatile ILogger? _inner;

    /// <param name="minimum">The minimum level the real logger will have; decides
    /// <see cref="IsEnabled"/> until <see cref="Attach"/>.</param>
    public DeferredLogger(LogLevel minimum) => _minimum = minimum;

    /// <summary>No scope before <see cref="Attach"/>: scopes are not kept (the service's
    /// formatters run with IncludeScopes off and its context is a message prefix).</summary>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _inner?.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) =>
        _inner is { } inner ? inner.IsEnabled(logLevel) : logLevel != LogLevel.None && logLevel >= _minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ILogger? inner = _inner;
        if (inner is null)
        {
            lock (_lock)
            {
                inner = _inner;
                if (inner is null)
                {
                    if (IsEnabled(logLevel))
                    {
                        _kept!.Add((logLevel, eventId, formatter(state, exception), exception));
                    }

                    return;
                }
            }
        }

        inner.Log(logLevel, eventId, state, exception, formatter);
    }

    /// <summary>Writes the kept messages through <paramref name="inner"/>, in order, and sends
    /// everything after through it. Once only.</summary>
    public void Attach(ILogger inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        lock (_lock)
        {
            if (_kept is null)
            {
                throw new InvalidOperationException("the logger is already attached");
            }

            foreach ((LogLevel level, EventId eventId, string text, Exception? exception) in _kept)
            {
                inner.Log(level, eventId, text, exception, static (t, _) => t);
            }

            _kept = null;
            _inner = inner;
        }
    }
}
