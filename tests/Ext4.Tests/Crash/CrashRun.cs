using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// One crash campaign: a fresh image of the layout, the workload run with the seed and recorded
/// (<see cref="CrashRecording"/>), a crash right after it, then every state of
/// <see cref="CrashStateGenerator"/> judged by <see cref="CrashChecker"/>, two (or
/// <c>parallelism</c>) at a time, each worker on its own scratch image.
///
/// Environment: SAFEMOUNT_CRASH_SAVE=DIR saves each failing state's image (before recovery)
/// there; SAFEMOUNT_CRASH_ONLY=N checks only state N (to reproduce one failure).
/// </summary>
internal sealed partial class CrashRun(CrashLayout layout, CrashWorkload workload, int seed, bool unmount)
{
    /// <summary>How long one state may take (e2fsck has its own timeout); far beyond the tens of milliseconds a state takes.</summary>
    private static readonly TimeSpan StateDeadline = TimeSpan.FromSeconds(300);

    private int _checked;

    /// <summary>States judged (a hung one is not counted).</summary>
    public int Checked => _checked;

    public List<(CrashState State, string Failure)> Failures { get; } = [];

    public int LogEvents { get; private set; }

    public int LogFlushes { get; private set; }

    /// <summary>Journal blocks (inode 8) in the image, and block writes the log made into them: more writes than blocks means the log wrapped.</summary>
    public (long Blocks, long Written) Journal { get; private set; }

    public void Execute(int randomStates, int parallelism)
    {
        using var image = TestImage.Build(_ => { }, layout.Size, layout.Mkfs);
        var recording = CrashRecording.Make(image, workload, seed, unmount);
        var log = recording.Log;
        LogEvents = log.Count;
        LogFlushes = log.Count(e => e.IsFlush);
        Journal = JournalUse(image.ImagePath, log, recording.BlockSize);
        var states = CrashStateGenerator.Generate(log, recording.BlockSize, seed, randomStates);
        if (Environment.GetEnvironmentVariable("SAFEMOUNT_CRASH_ONLY") is { Length: > 0 } only)
        {
            int index = int.Parse(only, CultureInfo.InvariantCulture);
            states = [.. states.Where(s => s.Index == index)];
        }

        var checker = new CrashChecker(recording);
        string? saveDir = Environment.GetEnvironmentVariable("SAFEMOUNT_CRASH_SAVE");
        var failures = new ConcurrentBag<(CrashState, string)>();
        Parallel.For(0, parallelism, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, worker =>
        {
            string path = image.Scratch($"state-{worker}.img");
            for (int i = worker; i < states.Count; i += parallelism)
            {
                var state = states[i];
                var check = Task.Run(() => checker.Check(state, path));
                if (!check.Wait(StateDeadline))
                {
                    // The stuck check still owns this worker's scratch image: the worker stops here.
                    failures.Add((state, $"hang: recovery or the check did not finish in {StateDeadline.TotalSeconds} s\n{recording.SegmentWrites(state)}"));
                    break;
                }

                Interlocked.Increment(ref _checked);
                if (check.Result is not { } failure)
                {
                    continue;
                }

                failures.Add((state, failure + "\n" + recording.SegmentWrites(state)));
                if (saveDir is { Length: > 0 })
                {
                    Directory.CreateDirectory(saveDir);
                    CrashChecker.WriteSparse(
                        Path.Combine(saveDir, $"{layout.Name}-{workload.Name}-seed{seed}-state{state.Index}.img"),
                        state.Apply(recording.BaseImage, log, recording.BlockSize));
                }
            }
        });

        Failures.AddRange(failures.OrderBy(f => f.Item1.Index));
    }

    /// <summary>Counts, per <see cref="Journal"/>, from debugfs's block list of inode 8 ("(0-9):11-20, (IND):606, ...": index blocks are not log space).</summary>
    private static (long Blocks, long Written) JournalUse(string image, IReadOnlyList<DeviceEvent> log, int blockSize)
    {
        var ranges = new List<(long First, long Last)>();
        foreach (Match m in JournalRun().Matches(Tool.Debugfs(image, "stat <8>")))
        {
            long first = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            long last = m.Groups[2].Success ? long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : first;
            ranges.Add((first, last));
        }

        long written = 0;
        foreach (var e in log)
        {
            if (e.Data is null)
            {
                continue;
            }

            for (long b = e.Offset / blockSize; b <= (e.Offset + e.Data.Length - 1) / blockSize; b++)
            {
                if (ranges.Any(r => b >= r.First && b <= r.Last))
                {
                    written++;
                }
            }
        }

        return (ranges.Sum(r => r.Last - r.First + 1), written);
    }

    [GeneratedRegex(@"\(\d+(?:-\d+)?\):(\d+)(?:-(\d+))?")]
    private static partial Regex JournalRun();

    public override string ToString() => $"{layout.Name} {workload.Name}{(unmount ? " +unmount" : string.Empty)} seed {seed}";
}
