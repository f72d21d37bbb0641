using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Safemount.Ext4.Tests.Journal;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// One crash campaign: a fresh image of the layout, the workload run with the seed and recorded
/// (<see cref="CrashRecording"/>), a crash right after it, then every state of
/// <see cref="CrashStateGenerator"/> judged by <see cref="CrashChecker"/>, two (or
/// <c>parallelism</c>) at a time, each worker on its own scratch image.
///
/// Environment: SAFEMOUNT_CRASH_SAVE=DIR saves each failing state's image (before recovery)
/// there; SAFEMOUNT_CRASH_ONLY=N checks only state N (to reproduce one failure; when N is a
/// flush cut, its interrupted recoveries too).
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

    /// <summary>States checked again after their recovery was itself interrupted (counted in <see cref="Checked"/> too).</summary>
    public int RestartStates { get; private set; }

    /// <param name="randomStates">Random states derived from the workload's log (all flush cuts are checked too).</param>
    /// <param name="restarts">Flush-cut states, evenly spread over the log, whose recovery is recorded and cut in turn.</param>
    /// <param name="parallelism">States checked at once.</param>
    public void Execute(int randomStates, int restarts, int parallelism)
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
        var work = new List<(CrashState State, Func<byte[]> Image, string? Restart)>();
        foreach (var state in states)
        {
            work.Add((state, () => state.Apply(recording.BaseImage, log, recording.BlockSize), null));
        }

        foreach (var (state, restartImage, restart) in InterruptedRecoveries(recording, states, restarts))
        {
            work.Add((state, restartImage, restart));
        }

        RestartStates = work.Count - states.Count;
        string? saveDir = Environment.GetEnvironmentVariable("SAFEMOUNT_CRASH_SAVE");
        var failures = new ConcurrentBag<(CrashState, string)>();
        Parallel.For(0, parallelism, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, worker =>
        {
            string path = image.Scratch($"state-{worker}.img");
            for (int i = worker; i < work.Count; i += parallelism)
            {
                var (state, stateImage, restart) = work[i];
                var check = Task.Run(() => checker.CheckImage(stateImage(), state, path));
                if (!check.Wait(StateDeadline))
                {
                    // The stuck check still owns this worker's scratch image: the worker stops here.
                    failures.Add((state, $"hang: recovery or the check did not finish in {StateDeadline.TotalSeconds} s\n{restart}{recording.SegmentWrites(state)}"));
                    break;
                }

                Interlocked.Increment(ref _checked);
                if (check.Result is not { } failure)
                {
                    continue;
                }

                failures.Add((state, restart is null ? $"{failure}\n{recording.SegmentWrites(state)}" : $"after an interrupted recovery: {failure}\n{restart}"));
                if (saveDir is { Length: > 0 })
                {
                    Directory.CreateDirectory(saveDir);
                    string suffix = restart is null ? string.Empty : $"-restart{i}";
                    CrashChecker.WriteSparse(Path.Combine(saveDir, $"{layout.Name}-{workload.Name}-seed{seed}-state{state.Index}{suffix}.img"), stateImage());
                }
            }
        });

        Failures.AddRange(failures.OrderBy(f => f.Item1.Index));
    }

    /// <summary>
    /// Crash states of recoveries: for <paramref name="count"/> flush cuts spread over the log,
    /// the recovery (<see cref="CrashChecker.Recover"/>) runs on a recording memory device, and
    /// every flush cut of its log plus a few random states of it are to be recovered again and
    /// judged as the original state (replay must be restartable, as jbd2's is: it rewrites the
    /// same home blocks and only then marks the journal empty). A state whose first recovery
    /// fails is left out here (its failure is reported as a state of the workload).
    /// </summary>
    private static IEnumerable<(CrashState State, Func<byte[]> Image, string Restart)> InterruptedRecoveries(
        CrashRecording recording, List<CrashState> states, int count)
    {
        const int RandomPerRecovery = 6;
        var cuts = states.Where(s => s.Kind == CrashStateGenerator.FlushCut).ToList();
        for (int k = 1; k <= count && cuts.Count > 0; k++)
        {
            var state = cuts[Math.Clamp((int)((long)cuts.Count * k / count) - 1, 0, cuts.Count - 1)];
            byte[] crashed = state.Apply(recording.BaseImage, recording.Log, recording.BlockSize);
            var device = new RecordingBlockDevice(new WritableMemoryDevice((byte[])crashed.Clone()));
            string? refused;
            try
            {
                refused = CrashChecker.Recover(device);
            }
            catch (Exception e) when (e is Ext4CorruptionException or Ext4IOException)
            {
                refused = e.Message;
            }

            if (refused is not null)
            {
                continue;
            }

            var recoveryLog = device.Crash();
            foreach (var cut in CrashStateGenerator.Generate(recoveryLog, recording.BlockSize, state.Index, RandomPerRecovery))
            {
                yield return (state, () => cut.Apply(crashed, recoveryLog, recording.BlockSize), $"recovery of state {state.Index} ({recoveryLog.Count} device events) interrupted at: {cut}");
            }
        }
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
