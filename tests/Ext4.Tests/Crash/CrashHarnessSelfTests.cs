using Safemount.Ext4.Tests.Journal;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// The crash harness's own parts: the recording device, the state generator's invariants and
/// determinism, the durable-file acceptance rule, and the checker catching a device that loses
/// flushed writes (so a green crash run means something).
/// </summary>
public class CrashHarnessSelfTests
{
    [Test]
    public void RecordingDeviceLogsInIssueOrderAndRefusesAfterCrash()
    {
        var inner = new WritableMemoryDevice(new byte[8192]);
        var device = new RecordingBlockDevice(inner);
        device.Write(100, [1, 2, 3]);
        device.Flush();
        device.Write(4096, [9]);
        var log = device.Crash();
        Assert.That(log.Select(e => e.ToString()), Is.EqualTo(new[] { "write 3 bytes at 100", "flush", "write 1 bytes at 4096" }));
        Assert.That(log[0].Data, Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(() => device.Write(0, [1]), Throws.TypeOf<Ext4IOException>());
        Assert.That(() => device.Flush(), Throws.TypeOf<Ext4IOException>());
        Assert.That(device.Count, Is.EqualTo(3), "nothing logged after the crash");
        var back = new byte[1];
        device.Read(4096, back);
        Assert.That(back[0], Is.EqualTo(9), "reads see the inner device");
        Assert.That(inner.Flushes, Is.EqualTo(1));
    }

    [Test]
    public void RecordedBytesAreACopy()
    {
        var device = new RecordingBlockDevice(new WritableMemoryDevice(new byte[4096]));
        byte[] data = [5, 5];
        device.Write(0, data);
        data[0] = 7;
        Assert.That(device.Crash()[0].Data, Is.EqualTo(new byte[] { 5, 5 }));
    }

    [Test]
    public void GeneratedStatesHonourBarriersAndAreDeterministic()
    {
        // Writes of 1 to 3 blocks, some unaligned, with flushes between groups of them.
        var rng = new Random(5);
        var log = new List<DeviceEvent>();
        for (int i = 0; i < 200; i++)
        {
            log.Add(rng.Next(6) == 0 ? DeviceEvent.Flush() : new DeviceEvent(rng.Next(0, 60) * 1024 + (rng.Next(4) == 0 ? 100 : 0), new byte[rng.Next(1, 3 * 1024)]));
        }

        var states = CrashStateGenerator.Generate(log, 1024, seed: 9, randomStates: 300);
        int flushes = log.Count(e => e.IsFlush);
        Assert.That(states, Has.Count.EqualTo(flushes + 300));
        Assert.That(states.Select(s => s.Index), Is.EqualTo(Enumerable.Range(0, states.Count)));
        foreach (var s in states)
        {
            Assert.That(s.Prefix, Is.InRange(0, s.Limit), s.ToString());
            Assert.That(s.Limit, Is.LessThanOrEqualTo(log.Count), s.ToString());
            Assert.That(Enumerable.Range(s.Prefix, s.Limit - s.Prefix).Any(i => log[i].IsFlush), Is.False, $"a flush inside the unflushed window: {s}");
            Assert.That(s.Pending.Select(p => p.Event), Is.Unique, s.ToString());
            foreach (var p in s.Pending)
            {
                Assert.That(p.Event, Is.InRange(s.Prefix, s.Limit - 1), s.ToString());
                int pieces = CrashState.Split(log[p.Event].Offset, log[p.Event].Data!.Length, 1024).Count;
                Assert.That(p.Pieces ?? [], Has.All.InRange(0, pieces - 1), s.ToString());
            }
        }

        Assert.That(states.Count(s => s.Kind == CrashStateGenerator.FlushCut), Is.EqualTo(flushes));
        Assert.That(states.Any(s => s.Pending.Any(p => p.Pieces is not null)), Is.True, "some writes are torn");
        Assert.That(states.Any(s => s.Pending.Select(p => p.Event).Zip(s.Pending.Skip(1).Select(p => p.Event)).Any(t => t.First > t.Second)), Is.True, "some states reorder");
        var again = CrashStateGenerator.Generate(log, 1024, seed: 9, randomStates: 300);
        Assert.That(again.Select(s => s.ToString()), Is.EqualTo(states.Select(s => s.ToString())), "same seed, same states");
        var other = CrashStateGenerator.Generate(log, 1024, seed: 10, randomStates: 300);
        Assert.That(other.Select(s => s.ToString()), Is.Not.EqualTo(states.Select(s => s.ToString())));
    }

    [Test]
    public void ApplyingAStateWritesItsPrefixThenItsPiecesInOrder()
    {
        var log = new List<DeviceEvent>
        {
            new(0, [1, 1, 1, 1]),
            DeviceEvent.Flush(),
            new(2, [2, 2, 2, 2]),     // pieces with 4-byte blocks: [2,4) and [4,6)
            new(4, [3, 3]),
        };
        var state = new CrashState(0, 0, "test", 2, 4, [new PendingWrite(3, null), new PendingWrite(2, [1])]);
        Assert.That(state.Apply(new byte[8], log, blockSize: 4), Is.EqualTo(new byte[] { 1, 1, 1, 1, 2, 2, 0, 0 }));
        Assert.That(state.ToString(), Does.Contain("#3 #2{1}"));
    }

    [Test]
    public void DurableFileAcceptsBlockMixesOfLaterVersionsOnly()
    {
        var file = new DurableFile("/f");
        byte[] v0 = [.. Enumerable.Repeat((byte)1, 8)];
        byte[] v1 = [.. Enumerable.Repeat((byte)2, 8)];
        byte[] v2 = [.. Enumerable.Repeat((byte)3, 12)];
        file.AddVersion(v0, at: 0);
        file.Synced(durableAt: 5);
        file.AddVersion(v1, at: 10);
        file.AddVersion(v2, at: 20);
        Assert.That(file.Check([], prefix: 4, limit: 100, blockSize: 4), Is.Null, "nothing required before the sync");
        Assert.That(file.Check(v0, prefix: 5, limit: 10, blockSize: 4), Is.Null);
        Assert.That(file.Check(v1, prefix: 5, limit: 10, blockSize: 4), Does.Contain("byte 0 is 0x02"), "v1 began at the limit: not in this state");
        Assert.That(file.Check([1, 1, 1, 1, 2, 2, 2, 2], prefix: 5, limit: 11, blockSize: 4), Is.Null, "a torn rewrite mixes blocks");
        Assert.That(file.Check([1, 1, 2, 2, 2, 1, 2, 2], prefix: 5, limit: 11, blockSize: 4), Is.Null, "and byte ranges inside a block");
        Assert.That(file.Check([1, 1, 0, 2, 2, 2, 2, 2], prefix: 5, limit: 11, blockSize: 4), Does.Contain("byte 2 is 0x00"));
        Assert.That(file.Check(v2, prefix: 5, limit: 100, blockSize: 4), Is.Null);
        Assert.That(file.Check([3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0], prefix: 5, limit: 100, blockSize: 4), Does.Contain("byte 8 is 0x00"), "a size whose data never arrived");
        Assert.That(file.Check(new byte[10], prefix: 5, limit: 100, blockSize: 4), Does.Contain("size 10"));
        file.Synced(durableAt: 30);
        Assert.That(file.Check(v0, prefix: 30, limit: 100, blockSize: 4), Does.Contain("size 8"), "v2 is required after the second sync");
    }

    /// <summary>
    /// A device that acknowledges a flush but loses writes before it: the checker must notice,
    /// both when a synced file's data block is lost (its bytes read back as zeros) and when the
    /// sync's metadata is lost (the file is gone or fsck complains).
    /// </summary>
    [TestCase("-b", "4096")]
    [TestCase("-b", "1024", "-J", "size=1")]
    public void CheckerCatchesADeviceThatLosesFlushedWrites(params string[] mkfs)
    {
        using var image = TestImage.Build(_ => { }, "16M", mkfs);
        byte[] content = new Random(3).GetItems<byte>([.. Enumerable.Range(1, 255).Select(i => (byte)i)], 20_000);
        var workload = new ScriptedWorkload("one-synced-file", d =>
        {
            d.Mkdir("/dir");
            d.Sync();
            d.Create("/dir/kept", protect: true);
            d.Write("/dir/kept", 0, content);
            d.Sync();
        });
        var recording = CrashRecording.Make(image, workload, seed: 1);
        var log = recording.Log;
        int lastFlush = Enumerable.Range(0, log.Count).Last(i => log[i].IsFlush);
        var synced = new CrashState(1, 0, CrashStateGenerator.FlushCut, lastFlush + 1, lastFlush + 1, []);
        string scratch = image.Scratch("state.img");
        Assert.That(new CrashChecker(recording).Check(synced, scratch), Is.Null, "the honest device's state is clean");

        // Lose one data write of the file: replace its bytes by what the medium held before it (zeros).
        int dataWrite = Enumerable.Range(0, lastFlush).First(i => log[i].Data is { Length: > 64 } d && content.AsSpan().IndexOf(d) >= 0);
        var lostData = log.ToArray();
        lostData[dataWrite] = lostData[dataWrite] with { Data = new byte[log[dataWrite].Data!.Length] };
        string? failure = new CrashChecker(recording with { Log = lostData }).Check(synced, scratch);
        Assert.That(failure, Does.StartWith("lost fsynced data: /dir/kept: byte "), failure);

        // Lose every write between the last two flushes (the final sync's metadata included).
        int previousFlush = Enumerable.Range(0, lastFlush).Last(i => log[i].IsFlush);
        var preImage = new CrashState(1, 0, CrashStateGenerator.FlushCut, previousFlush + 1, previousFlush + 1, []).Apply(recording.BaseImage, log, recording.BlockSize);
        var lostSync = log.ToArray();
        for (int i = previousFlush + 1; i < lastFlush; i++)
        {
            var e = log[i];
            var before = preImage.AsSpan((int)e.Offset, e.Data!.Length).ToArray();
            lostSync[i] = e with { Data = before };
        }

        failure = new CrashChecker(recording with { Log = lostSync }).Check(synced, scratch);
        Assert.That(failure, Is.Not.Null);
        Assert.That(failure, Does.StartWith("lost fsynced data").Or.StartWith("e2fsck"), failure);
    }

    /// <summary>
    /// Ordered mode: a device log in which one data block of /b carries /a's bytes instead (as
    /// when a block is exposed before its new data reached it) must be reported as stale data,
    /// while the honest log passes.
    /// </summary>
    [Test]
    public void CheckerCatchesAnotherFilesDataInAFile()
    {
        using var image = TestImage.Build(_ => { }, "16M", "-b", "4096");
        var workload = new ScriptedWorkload("two-files", d =>
        {
            d.Create("/a");
            d.Fill("/a", 0, 20_000);
            d.Create("/b");
            d.Fill("/b", 0, 20_000);
            d.Sync();
        });
        var recording = CrashRecording.Make(image, workload, seed: 1);
        var log = recording.Log;
        int lastFlush = Enumerable.Range(0, log.Count).Last(i => log[i].IsFlush);
        var synced = new CrashState(1, 0, CrashStateGenerator.FlushCut, lastFlush + 1, lastFlush + 1, []);
        string scratch = image.Scratch("state.img");
        Assert.That(new CrashChecker(recording).Check(synced, scratch), Is.Null, "the honest device's state is clean");

        // Identities are 1 (/a) and 2 (/b), in creation order: the words of /b's data start 02 00 00 00.
        static bool Names(byte[]? data, uint identity) => data is { Length: >= 4096 } && BitConverter.ToUInt32(data, 0) == identity && BitConverter.ToUInt32(data, 8) == identity;
        int ofA = Enumerable.Range(0, lastFlush).First(i => Names(log[i].Data, 1));
        int ofB = Enumerable.Range(0, lastFlush).First(i => Names(log[i].Data, 2));
        var swapped = log.ToArray();
        var mixed = (byte[])log[ofB].Data!.Clone();
        log[ofA].Data.AsSpan(0, Math.Min(mixed.Length, log[ofA].Data!.Length)).CopyTo(mixed);
        swapped[ofB] = log[ofB] with { Data = mixed };
        string? failure = new CrashChecker(recording with { Log = swapped }).Check(synced, scratch);
        Assert.That(failure, Does.StartWith("stale data: /b bytes"), failure);
    }
}
