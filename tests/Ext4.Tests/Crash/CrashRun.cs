using System.Collections.Concurrent;
using System.Globalization;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// One crash campaign: a fresh image of <see cref="Layout"/>, <see cref="Workload"/> run with
/// <see cref="Seed"/> and recorded (<see cref="CrashRecording"/>), a crash right after it, then
/// every state of <see cref="CrashStateGenerator"/> judged by <see cref="CrashChecker"/>.
///
/// Environment: SAFEMOUNT_CRASH_SAVE=DIR saves each failing state's image (before recovery)
/// there; SAFEMOUNT_CRASH_ONLY=N checks only state N (to reproduce one failure).
/// </summary>
internal sealed class CrashRun(CrashLayout layout, CrashWorkload workload, int seed)
{
    public int Checked { get; private set; }

    public List<(CrashState State, string Failure)> Failures { get; } = [];

    public int LogEvents { get; private set; }

    public int LogFlushes { get; private set; }

    public void Execute(int randomStates, int parallelism)
    {
        using var image = TestImage.Build(_ => { }, layout.Size, layout.Mkfs);
        var recording = CrashRecording.Make(image, workload, seed);
        var log = recording.Log;
        LogEvents = log.Count;
        LogFlushes = log.Count(e => e.IsFlush);
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
                if (checker.Check(states[i], path) is not { } failure)
                {
                    continue;
                }

                failures.Add((states[i], failure + "\n" + recording.SegmentWrites(states[i])));
                if (saveDir is { Length: > 0 })
                {
                    Directory.CreateDirectory(saveDir);
                    CrashChecker.WriteSparse(
                        Path.Combine(saveDir, $"{layout.Name}-{workload.Name}-seed{seed}-state{states[i].Index}.img"),
                        states[i].Apply(recording.BaseImage, log, recording.BlockSize));
                }
            }
        });

        Checked = states.Count;
        Failures.AddRange(failures.OrderBy(f => f.Item1.Index));
    }

    public override string ToString() => $"{layout.Name} {workload.Name} seed {seed}";
}
