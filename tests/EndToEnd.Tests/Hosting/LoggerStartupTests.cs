using Microsoft.Extensions.Logging;
using NUnit.Framework;
using Safemount.Ext4Service.Hosting;

namespace Safemount.EndToEnd.Tests.Hosting;

/// <summary>
/// <see cref="LoggerStartup"/> and <see cref="DeferredLogger"/>: what the service logs before
/// its logger factory exists comes out through the real console formatters, in order, with
/// its level, event id and the context of the moment it was logged; nothing is lost when
/// threads log while the factory is attached; a factory that cannot be built is reported.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LoggerStartupTests
{
    [TestCase(false, "info: ", "fail: ", "dbug: ")]
    [TestCase(true, "<6>", "<3>", "<7>")]
    public void KeptMessagesComeOutInOrderWithTheirLevelsThroughTheRealFormatter(bool journal, string info, string error, string debug)
    {
        string[] lines = CaptureStderr(() =>
        {
            using var startup = new LoggerStartup(LogLevel.Debug, journal, ServiceLogging.Create);
            var logger = new MountContextLogger(startup.Logger, "helper pid 7, uid 0");
            ServiceLog.Connected(logger, 1);
            logger.Context = "/dev/loop9 on /mnt";
            ServiceLog.SetupFailed(logger, "first");
            logger.LogTrace("below the minimum level: never written");
            ServiceLog.SetupTimes(logger, "kept at debug");

            var built = new ManualResetEventSlim();
            startup.StartBuilding(_ => built.Set());
            Assert.That(built.Wait(TimeSpan.FromMinutes(1)), "the factory was built");
            startup.Complete();
            ServiceLog.Ready(logger, "/dev/loop9", "/mnt");
        });

        Assert.That(lines, Is.EqualTo(new[]
        {
            $"{info}safemount-ext4[100] helper pid 7, uid 0: helper connected: protocol version 1",
            $"{error}safemount-ext4[108] /dev/loop9 on /mnt: setup failed: first",
            $"{debug}safemount-ext4[115] /dev/loop9 on /mnt: setup times (each step, in parentheses since Main): kept at debug",
            $"{info}safemount-ext4[105] /dev/loop9 on /mnt: mounted: /dev/loop9 on /mnt is ready",
        }));
    }

    [Test]
    public void AKeptExceptionIsWrittenWithItsMessage()
    {
        string[] lines = CaptureStderr(() =>
        {
            using var startup = new LoggerStartup(LogLevel.Information, journal: false, ServiceLogging.Create);
            ServiceLog.Crashed(startup.Logger, new InvalidOperationException("the kept exception"));
        });

        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("fail: safemount-ext4[109] unexpected failure"));
        Assert.That(lines[0], Does.Contain("System.InvalidOperationException: the kept exception"));
    }

    [Test]
    public void IsEnabledFollowsTheMinimumLevelBeforeAndAfterTheFactory()
    {
        var recorder = new RecordingProvider();
        using var startup = new LoggerStartup(LogLevel.Warning, journal: false, (level, _) => recorder.Factory(level));
        bool[] before = [startup.Logger.IsEnabled(LogLevel.Information), startup.Logger.IsEnabled(LogLevel.Warning), startup.Logger.IsEnabled(LogLevel.None)];
        startup.Complete();
        bool[] after = [startup.Logger.IsEnabled(LogLevel.Information), startup.Logger.IsEnabled(LogLevel.Warning), startup.Logger.IsEnabled(LogLevel.None)];
        Assert.That(before, Is.EqualTo(new[] { false, true, false }));
        Assert.That(after, Is.EqualTo(before));
    }

    [Test]
    public void NothingIsLostOrReorderedWhileThreadsLogDuringTheAttach()
    {
        const int Threads = 4, PerThread = 2000;
        var recorder = new RecordingProvider();
        using var release = new ManualResetEventSlim();
        using var startup = new LoggerStartup(LogLevel.Information, journal: false, (level, _) =>
        {
            // The factory becomes ready while the loggers are in the middle of their runs.
            release.Wait();
            return recorder.Factory(level);
        });
        using var started = new CountdownEvent(Threads);
        Thread[] loggers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                if (i == PerThread / 4)
                {
                    started.Signal();
                }

                startup.Logger.LogInformation("{Thread} {Index}", t, i);
            }
        })).ToArray();
        foreach (Thread thread in loggers)
        {
            thread.Start();
        }

        startup.StartBuilding();
        started.Wait();
        release.Set();
        foreach (Thread thread in loggers)
        {
            thread.Join();
        }

        startup.Complete();
        string[] messages = recorder.Messages();
        Assert.That(messages, Has.Length.EqualTo(Threads * PerThread));
        for (int t = 0; t < Threads; t++)
        {
            string[] own = messages.Where(m => m.StartsWith($"{t} ", StringComparison.Ordinal)).ToArray();
            Assert.That(own, Is.EqualTo(Enumerable.Range(0, PerThread).Select(i => $"{t} {i}").ToArray()), $"thread {t}'s messages, in its order");
        }
    }

    [Test]
    public void WithoutABuilderCompleteBuildsTheFactoryOnTheCallingThread()
    {
        var recorder = new RecordingProvider();
        int? builtOn = null;
        using var startup = new LoggerStartup(LogLevel.Information, journal: false, (level, _) =>
        {
            builtOn = Environment.CurrentManagedThreadId;
            return recorder.Factory(level);
        });
        ServiceLog.MountRefused(startup.Logger, "/dev/loop9", "kept until the end");
        Assert.That(recorder.Messages(), Is.Empty, "nothing is written before the factory exists");
        startup.Dispose();
        Assert.That(builtOn, Is.EqualTo(Environment.CurrentManagedThreadId));
        Assert.That(recorder.Messages(), Is.EqualTo(new[] { "mount refused: /dev/loop9: kept until the end" }));
        Assert.That(recorder.Disposed, "Dispose disposes the factory, which writes out the console queue");
    }

    [Test]
    public void AFactoryThatCannotBeBuiltIsRethrownByComplete()
    {
        var startup = new LoggerStartup(LogLevel.Information, journal: false, (_, _) => throw new InvalidOperationException("no factory"));
        startup.StartBuilding();
        Assert.That(startup.Complete, Throws.InvalidOperationException.With.Message.EqualTo("no factory"));
        Assert.That(startup.Dispose, Throws.InvalidOperationException.With.Message.EqualTo("no factory"));
    }

    /// <summary>Runs <paramref name="body"/> with Console.Error on a StringWriter (the console
    /// logger writes there) and returns the lines written.</summary>
    private static string[] CaptureStderr(Action body)
    {
        TextWriter saved = Console.Error;
        var capture = new StringWriter();
        Console.SetError(capture);
        try
        {
            body();
        }
        finally
        {
            Console.SetError(saved);
        }

        return capture.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private sealed class OwnedFactory(ILoggerFactory inner, RecordingProvider provider) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider p) => inner.AddProvider(p);

        public ILogger CreateLogger(string categoryName) => inner.CreateLogger(categoryName);

        public void Dispose()
        {
            inner.Dispose();
            provider.Dispose();
        }
    }

    /// <summary>A provider that records the formatted messages in the order the loggers saw them.</summary>
    private sealed class RecordingProvider : ILoggerProvider, ILogger
    {
        private readonly Lock _lock = new();
        private readonly List<string> _messages = [];

        public bool Disposed { get; private set; }

        /// <summary>A factory over this provider; its Dispose sets <see cref="Disposed"/> (a
        /// factory does not dispose a provider it was handed).</summary>
        public ILoggerFactory Factory(LogLevel level) => new OwnedFactory(LoggerFactory.Create(b => b.SetMinimumLevel(level).AddProvider(this)), this);

        public string[] Messages()
        {
            lock (_lock)
            {
                return [.. _messages];
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose() => Disposed = true;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        /// <summary>As the console logger: everything but None (the factory applies the minimum).</summary>
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lock)
            {
                _messages.Add(formatter(state, exception));
            }
        }
    }
}
