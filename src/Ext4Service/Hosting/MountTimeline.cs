using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// Monotonic marks of one mount's setup (Stopwatch ticks), logged at Debug once the kernel's
/// FUSE_INIT is answered, so that the mount latency can be split into its steps without a
/// tracer (bench/RESULTS.md "Run 6"). Marks are in milliseconds since <see cref="Start"/>, the
/// first statement of Main; the runtime's own start-up before Main is not in it.
/// Not thread-safe: only the thread running the mount adds marks, and the FUSE worker that
/// answers INIT adds the last one after the mount thread has stopped adding.
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
    public string Format()
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

        return text.ToString();
    }
}
