using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Safemount.Fuse.Tests;

/// <summary>An ILogger that keeps every entry (event id, level, formatted text) for assertions.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(EventId Id, LogLevel Level, string Text)> entries = new();

    public (EventId Id, LogLevel Level, string Text)[] Entries => [.. this.entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        this.entries.Enqueue((eventId, logLevel, formatter(state, exception)));
    }

    public bool Has(int eventId) => this.entries.Any(e => e.Id.Id == eventId);
}
