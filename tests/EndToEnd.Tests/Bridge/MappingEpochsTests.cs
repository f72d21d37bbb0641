using NUnit.Framework;
using Safemount.Ext4Service.Bridge;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>
/// MappingEpochs, the guard between BEGIN's UPSERT and the INVAL of a change: a push whose
/// epoch was read before a change is either skipped or runs before that change's invalidation,
/// so what the "kernel cache" ends with is never older than the last change.
/// </summary>
[TestFixture]
public sealed class MappingEpochsTests
{
    [Test]
    public void APushIsSkippedOnceItsInodeChanged()
    {
        var epochs = new MappingEpochs();
        var log = new List<string>();
        long e12 = epochs.Read(12);
        long e13 = epochs.Read(13);
        long e76 = epochs.Read(76);   // 76 = 12 + 64: same stripe as 12

        Assert.That(epochs.PublishIfUnchanged(12, e12, () => log.Add("push 12")), Is.True);
        epochs.Change(12, () => log.Add("inval 12"));
        Assert.That(epochs.PublishIfUnchanged(12, e12, () => log.Add("stale push 12")), Is.False);
        Assert.That(epochs.PublishIfUnchanged(13, e13, () => log.Add("push 13")), Is.True, "another stripe is not affected");
        Assert.That(epochs.PublishIfUnchanged(76, e76, () => log.Add("push 76")), Is.False, "a shared stripe is skipped too (merely not cached)");
        epochs.Change(12, null);
        Assert.That(epochs.PublishIfUnchanged(12, epochs.Read(12), () => log.Add("fresh push 12")), Is.True);
        Assert.That(log, Is.EqualTo(new[] { "push 12", "inval 12", "push 13", "fresh push 12" }));
    }

    [Test]
    public void RacingPushesNeverLeaveAnOlderVersionCached()
    {
        var epochs = new MappingEpochs();
        const uint Ino = 5;
        const int Changes = 20000;
        int truth = 0;
        int? cached = null;          // guarded by the stripe lock (written only inside the callbacks)
        int stalePushes = 0;
        using var done = new ManualResetEventSlim();

        var pusher = new Thread(() =>
        {
            while (!done.IsSet)
            {
                long seen = epochs.Read(Ino);
                int version = Volatile.Read(ref truth);   // the lookup, after the epoch
                if (!epochs.PublishIfUnchanged(Ino, seen, () => cached = version))
                {
                    stalePushes++;
                }
            }
        });
        pusher.Start();
        for (int i = 0; i < Changes; i++)
        {
            Interlocked.Increment(ref truth);            // the change ...
            epochs.Change(Ino, () => cached = null);     // ... then its invalidation
        }

        done.Set();
        pusher.Join();

        // Dropped by the last change, or pushed after it with the last version; never older.
        Assert.That(cached is null || cached == Changes, Is.True, $"cached version {cached} of {Changes}");
        TestContext.Out.WriteLine($"{stalePushes} pushes skipped");
    }
}
