using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// Monotonic marks of one mount's setup (Stopwatch ticks), logged at Debug once the kernel's
/// FUSE_INIT is answered, so that the mount latency can be split into its steps without a
/// tracer (bench/RESULTS.md "Run 6"). Marks are in milliseconds since <see cref="Start"/>, the
/// first statement of Main; the runtime's own start-up before Main is not in it.
/// <see cref="Mark"/> is not thread-safe: only the thread running the mount adds marks, and the
/// FUSE worker that answers INIT adds the last one after the mount thread has stopped adding.
/// Steps that ran on another thread (the logger factory, <see cref="LoggerStartup"/>) are
/// passed to <see cref="Format"/> and listed after the marks.
/// </summary>
internal sealed class MountTimeline
{
    private readonly long _start;
    private readonly List<(string Step, long Ticks)> _marks = [];

    private MountTimeline(long start) => _start = start;

    /// <summary>A timeline whose zero is now.</summary>
    public static MountTimeline Start() => new(Stopwatch.GetTimestamp());

    /// <summary>Records that <paramref name="step"/> ended now.</summary>
    public void Mark(string step) => _marks.Add((step, Stopwatch.GetTimestamp()));

    /// <summary>"step1 +a ms (b), step2 +c ms (d), ..." with each step's own duration and, in
    /// parentheses, the time since the start, both in milliseconds.</summary>
    /// <param name="aside">Steps of other threads: name, start and end in Stopwatch ticks;
    /// written as "name a ms (b-c)", its duration and its start and end since the start.</param>
    public string Format(params ReadOnlySpan<(string Step, long Start, long End)> aside)
    {
        var text = new StringBuilder();
        long previous = _start;
        foreach ((string step, long ticks) in _marks)
        {
            if (text.Length > 0)
            {
                text.Append(", ");
            }

            text.Append(CultureInfo.InvariantCulture,
                $"{step} +{Stopwatch.GetElapsedTime(previous, ticks).TotalMilliseconds:0.0} ms ({Stopwatch.GetElapsedTime(_start, ticks).TotalMilliseconds:0.0})");
            previous = ticks;
        }

        foreach ((string step, long start, long end) in aside)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"; {step} {Stopwatch.GetElapsedTime(start, end).TotalMilliseconds:0.0} ms ({Stopwatch.GetElapsedTime(_start, start).TotalMilliseconds:0.0}-{Stopwatch.GetElapsedTime(_start, end).TotalMilliseconds:0.0})");
        }

        return text.ToString();
    }
}
