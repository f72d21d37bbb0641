using Safemount.Ext4.Tests.Journal;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// A workload recorded on a copy of an image: the image before it (<see cref="BaseImage"/>),
/// the device log up to the crash and the model of what the workload did. The volume runs with
/// a one-hour commit interval, so only the workload's syncs and the engine's own needs commit
/// and the log is a function of the seed.
/// </summary>
internal sealed record CrashRecording(byte[] BaseImage, int BlockSize, IReadOnlyList<DeviceEvent> Log, WorkloadModel Model)
{
    /// <summary>
    /// Records <paramref name="workload"/> on a copy of <paramref name="image"/>; the power goes
    /// right after it, or, with <paramref name="unmount"/>, after a clean unmount (so the log also
    /// holds the final commit, the checkpoint and the journal's reset, and everything is durable).
    /// </summary>
    public static CrashRecording Make(TestImage image, CrashWorkload workload, int seed, bool unmount = false)
    {
        byte[] baseImage = File.ReadAllBytes(image.ImagePath);
        var model = new WorkloadModel();
        int blockSize;
        using (var opened = image.Open())
        {
            blockSize = (int)opened.Volume.BlockSize;
            foreach (string line in TreeSnapshot.Take(opened.Volume))
            {
                int arrow = line.IndexOf(CrashChecker.EntryMarker, StringComparison.Ordinal);
                if (arrow >= 0)
                {
                    model.Appeared(line[..arrow], -1);
                }
            }
        }

        var device = new RecordingBlockDevice(new WritableMemoryDevice((byte[])baseImage.Clone()));

        // Never disposed: a crash is the volume abandoned without Unmount. The device refuses
        // every write after Crash(), so nothing the abandoned volume does can reach the log.
        var volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, CommitInterval = TimeSpan.FromHours(1) });
        Assert.That(volume.IsReadOnly, Is.False, string.Join("; ", volume.Warnings));
        workload.Run(new WorkloadDriver(volume, device, model, new Random(seed)));
        if (unmount)
        {
            volume.Unmount();
            model.Synced(device.Count);
        }

        return new CrashRecording(baseImage, blockSize, device.Crash(), model);
    }

    /// <summary>Where the state's unflushed writes (all of its segment, applied or not) went: "#event:bytes@block[+offset]".</summary>
    public string SegmentWrites(CrashState state) =>
        state.Limit == state.Prefix ? string.Empty
            : "segment writes: " + string.Join(' ', Enumerable.Range(state.Prefix, state.Limit - state.Prefix)
                .Select(i => $"#{i}:{Log[i].Data!.Length}@{Log[i].Offset / BlockSize}" + (Log[i].Offset % BlockSize == 0 ? string.Empty : $"+{Log[i].Offset % BlockSize}")));
}
