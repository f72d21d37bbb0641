using System.Globalization;
using Safemount.Ext4.Tests.Journal;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// One crash campaign: a fresh image of <see cref="Layout"/>, <see cref="Workload"/> run with
/// <see cref="Seed"/> on a read-write volume over a <see cref="RecordingBlockDevice"/> (commit
/// interval one hour, so only the workload's own syncs and the engine's own needs commit: the
/// log is a function of the seed), a crash right after it, then every state of
/// <see cref="CrashStateGenerator"/> judged by <see cref="CrashChecker"/>.
///
/// Environment: SAFEMOUNT_CRASH_SAVE=DIR saves each failing state's image (before recovery)
/// there; SAFEMOUNT_CRASH_ONLY=N checks only state N (to reproduce one failure).
/// </summary>
internal sealed class CrashRun(CrashLayout layout, CrashWorkload workload, int seed)
{
    public CrashLayout Layout => layout;

    public CrashWorkload Workload => workload;

    public int Seed => seed;

    public int Checked { get; private set; }

    public List<(CrashState State, string Failure)> Failures { get; } = [];

    public int LogEvents { get; private set; }

    public int LogFlushes { get; private set; }

    public void Execute(int randomStates, int parallelism)
    {
        using var image = TestImage.Build(_ => { }, layout.Size, layout.Mkfs);
        byte[] baseImage = File.ReadAllBytes(image.ImagePath);
        var model = new WorkloadModel();
        int blockSize;
        using (var opened = image.Open())
        {
            blockSize = (int)opened.Volume.BlockSize;
            foreach (string line in TreeSnapshot.Take(opened.Volume))
            {
                int arrow = line.IndexOf(" -> ino ", StringComparison.Ordinal);
                if (arrow >= 0)
                {
                    model.Appeared(line[..arrow], -1);
                }
            }
        }

        var log = Record(baseImage, model);
        LogEvents = log.Count;
        LogFlushes = log.Count(e => e.IsFlush);
        var states = CrashStateGenerator.Generate(log, blockSize, seed, randomStates);
        if (Environment.GetEnvironmentVariable("SAFEMOUNT_CRASH_ONLY") is { Length: > 0 } only)
        {
            int index = int.Parse(only, CultureInfo.InvariantCulture);
            states = [.. states.Where(s => s.Index == index)];
        }

        var checker = new CrashChecker(baseImage, log, model, blockSize);
        string? saveDir = Environment.GetEnvironmentVariable("SAFEMOUNT_CRASH_SAVE");
        var failures = new System.Collections.Concurrent.ConcurrentBag<(CrashState, string)>();
        Parallel.For(0, parallelism, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, worker =>
        {
            string path = image.Scratch($"state-{worker}.img");
            for (int i = worker; i < states.Count; i += parallelism)
            {
                if (checker.Check(states[i], path) is { } failure)
                {
                    failures.Add((states[i], failure + "\n" + Writes(log, states[i], blockSize)));
                    if (saveDir is { Length: > 0 })
                    {
                        Directory.CreateDirectory(saveDir);
                        CrashChecker.WriteSparse(
                            Path.Combine(saveDir, $"{layout.Name}-{workload.Name}-seed{seed}-state{states[i].Index}.img"),
                            states[i].Apply(baseImage, log, blockSize));
                    }
                }
            }
        });

        Checked = states.Count;
        Failures.AddRange(failures.OrderBy(f => f.Item1.Index));
    }

    /// <summary>Where the state's unflushed writes (all of its segment, applied or not) went: "#event bytes@block".</summary>
    private static string Writes(IReadOnlyList<DeviceEvent> log, CrashState state, int blockSize) =>
        state.Limit == state.Prefix ? string.Empty
            : "segment writes: " + string.Join(' ', Enumerable.Range(state.Prefix, state.Limit - state.Prefix)
                .Select(i => $"#{i}:{log[i].Data!.Length}@{log[i].Offset / blockSize}" + (log[i].Offset % blockSize == 0 ? string.Empty : $"+{log[i].Offset % blockSize}")));

    private IReadOnlyList<DeviceEvent> Record(byte[] baseImage, WorkloadModel model)
    {
        var device = new RecordingBlockDevice(new WritableMemoryDevice((byte[])baseImage.Clone()));

        // Never disposed: a crash is the volume abandoned without Unmount. The device refuses
        // every write after Crash(), so nothing the abandoned volume does can reach the log.
        var volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, CommitInterval = TimeSpan.FromHours(1) });
        Assert.That(volume.IsReadOnly, Is.False, string.Join("; ", volume.Warnings));
        workload.Run(new WorkloadDriver(volume, device, model, new Random(seed)));
        return device.Crash();
    }

    public override string ToString() => $"{layout.Name} {workload.Name} seed {seed}";
}
