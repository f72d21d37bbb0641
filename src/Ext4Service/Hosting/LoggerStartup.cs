using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// The service's logger factory (<see cref="ServiceLogging"/>), built off the mount's critical
/// path. Building it costs 3-4 ms on a quiet machine, nearly all of it the DI container behind
/// LoggerFactory.Create closing open generics (IOptionsMonitor&lt;T&gt;, IEnumerable&lt;T&gt;)
/// through the Native AOT type loader (perf, bench/RESULTS.md "Run 8a"). Until the factory is
/// ready <see cref="Logger"/> keeps every message (<see cref="DeferredLogger"/>); nothing is lost
/// and the lines come out in the order they were logged, in the same format.
/// </summary>
/// <remarks>
/// The environment (SAFEMOUNT_LOG_LEVEL, JOURNAL_STREAM and the fstat of stderr) is read by
/// <see cref="Prepare"/> on the calling thread. <see cref="StartBuilding"/> is called by the
/// mount once the kernel's FUSE_INIT is answered and READY sent, so that the build competes
/// with nothing the mount(8) command waits for (with 2 CPUs, starting it right after the sandbox
/// slowed the volume open and INIT instead). Its thread, and the console logger's output
/// thread it starts, are then created by a confined thread and inherit its Landlock domain,
/// its empty capability sets and its seccomp filter (all per thread, kernel/fork.c
/// copy_process); the factory needs nothing the seccomp allowlist denies.
/// <see cref="Complete"/> (also run by <see cref="Dispose"/>) waits for the factory, building it
/// on the calling thread when no builder was started (a refused mount, an INIT that never came,
/// a failure before READY). Whichever thread builds the factory writes the kept messages as
/// soon as it is ready. Thread-safe; <see cref="_lock"/> is never taken by the builder thread,
/// so <see cref="Complete"/> may join it while holding the lock.
/// </remarks>
internal sealed class LoggerStartup : IDisposable
{
    private readonly Lock _lock = new();
    private readonly LogLevel _level;
    private readonly bool _journal;
    private readonly DeferredLogger _logger;
    private readonly Func<LogLevel, bool, ILoggerFactory> _create;
    private Thread? _builder;
    private ILoggerFactory? _factory;
    private ExceptionDispatchInfo? _failure;
    private Action<(long Start, long End)>? _built;
    private bool _completed;
    private bool _disposed;

    internal LoggerStartup(LogLevel level, bool journal, Func<LogLevel, bool, ILoggerFactory> create)
    {
        _level = level;
        _journal = journal;
        _create = create;
        _logger = new DeferredLogger(level);
    }

    /// <summary>The service's logger (category <see cref="ServiceLogging.Category"/>), usable at once.</summary>
    public ILogger Logger => _logger;

    /// <summary>Reads the logging environment now; builds nothing yet.</summary>
    public static LoggerStartup Prepare(Func<string, string?> getenv) =>
        new(ServiceLogging.MinimumLevel(getenv), ServiceLogging.StderrIsJournal(getenv), ServiceLogging.Create);

    /// <summary>Starts building the factory on a new thread (once; later calls do nothing).
    /// <paramref name="built"/> runs on that thread once the kept messages are written, with
    /// the build's start and end (Stopwatch ticks).</summary>
    public void StartBuilding(Action<(long Start, long End)>? built = null)
    {
        lock (_lock)
        {
            if (_builder is not null || _completed)
            {
                return;
            }

            _built = built;
            _builder = new Thread(Build) { IsBackground = true, Name = "logger-startup" };
            _builder.Start();
        }
    }

    /// <summary>Waits for the factory (or builds it here); afterwards <see cref="Logger"/> has
    /// written the kept messages and writes directly. Rethrows a failure to build it.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            if (!_completed)
            {
                if (_builder is null)
                {
                    Build();
                }
                else
                {
                    _builder.Join();
                }

                _completed = true;
            }

            _failure?.Throw();
        }
    }

    /// <summary>Completes, then disposes the factory, which writes out what the console
    /// logger still queues.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                Complete();
            }
            finally
            {
                _factory?.Dispose();
            }
        }
    }

    private void Build()
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            _factory = _create(_level, _journal);
            _logger.Attach(_factory.CreateLogger(ServiceLogging.Category));
            _built?.Invoke((start, Stopwatch.GetTimestamp()));
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
        }
    }
}
