using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Caching;

/// <summary>
/// BlockCache readahead against a recording in-memory device: one device read per miss, the run
/// bounded by the caller, <see cref="BlockCache.MaxReadahead"/>, a quarter of the capacity and
/// the first cached block; never replacing a dirty or newer block; and the stale-read guard,
/// driven deterministically by a device read held at a gate while the test installs, writes
/// home, unpins and evicts.
/// </summary>
public class BlockCacheReadaheadTests
{
    private const int Bs = 1024;
    private const int Blocks = 512;

    [Test]
    public void AMissReadsTheRunInOneDeviceRead()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, 1024 * Bs);
        Assert.That(cache.Get(10, 8), Is.EqualTo(dev.Version(10, 0)));
        for (int b = 11; b < 18; b++)
        {
            Assert.That(cache.Get((ulong)b), Is.EqualTo(dev.Version(b, 0)), $"block {b}");
        }

        Assert.That(cache.Get(18), Is.EqualTo(dev.Version(18, 0)));
        Assert.That(dev.Reads, Is.EqualTo(new[] { (10L, 8), (18L, 1) }));
        Assert.That(cache.Misses, Is.EqualTo(2));
        Assert.That(cache.ReadaheadBlocks, Is.EqualTo(7));
    }

    [Test]
    public void TheRunIsCappedByMaxReadaheadAndAQuarterOfTheCapacity()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var large = new BlockCache(dev, Bs, 1024 * Bs);
        large.Get(0 + 1, 1000);
        Assert.That(dev.Reads.Single(), Is.EqualTo((1L, BlockCache.MaxReadahead)));

        var dev2 = new GatedMemoryDevice(Blocks, Bs);
        var tiny = new BlockCache(dev2, Bs, 1); // MinEntries clean blocks
        tiny.Get(1, 1000);
        Assert.That(dev2.Reads.Single(), Is.EqualTo((1L, BlockCache.MinEntries / 4)));
        Assert.That(tiny.Count, Is.EqualTo(BlockCache.MinEntries / 4));
    }

    [Test]
    public void TheRunStopsBeforeACachedOrDirtyBlock()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, 1024 * Bs);
        cache.Get(13);
        cache.Get(10, 8);
        var newer = dev.Version(22, 1);
        cache.Install(22, newer);
        cache.Get(20, 8);
        Assert.That(dev.Reads, Is.EqualTo(new[] { (13L, 1), (10L, 3), (20L, 2) }));
        Assert.That(cache.Get(22), Is.SameAs(newer));
    }

    [Test]
    public void ABlockInstalledDuringTheReadIsNotReplaced()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, 1024 * Bs);
        var newer = dev.Version(12, 1);
        RunGated(dev, cache, 10, 4, () => cache.Install(12, newer));
        Assert.That(cache.Get(12), Is.SameAs(newer));
        Assert.That(cache.DirtyCount, Is.EqualTo(1));
        Assert.That(cache.Get(11), Is.EqualTo(dev.Version(11, 0)));
        Assert.That(cache.Get(13), Is.EqualTo(dev.Version(13, 0)));
        Assert.That(dev.Reads.Count, Is.EqualTo(1));
    }

    [Test]
    public void AReadaheadBlockWrittenHomeAndEvictedDuringTheReadIsNotInsertedStale()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, BlockCache.MinEntries * Bs);
        var newer = dev.Version(11, 1);
        byte[] got = RunGated(dev, cache, 10, 4, () =>
        {
            WriteHomeAndEvict(dev, cache, 11, newer);
        });
        Assert.That(got, Is.EqualTo(dev.Version(10, 0)));
        Assert.That(cache.TryGet(11, out _), Is.False, "the stale copy of block 11 was dropped");
        Assert.That(cache.Get(11), Is.EqualTo(newer));
        Assert.That(cache.Get(12), Is.EqualTo(dev.Version(12, 0)));
    }

    [Test]
    public void TheMissedBlockWrittenHomeAndEvictedDuringTheReadIsReadAgain()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, BlockCache.MinEntries * Bs);
        var newer = dev.Version(10, 1);
        byte[] got = RunGated(dev, cache, 10, 1, () => WriteHomeAndEvict(dev, cache, 10, newer));
        Assert.That(got, Is.EqualTo(newer));
        Assert.That(cache.Get(10), Is.SameAs(got));
        Assert.That(dev.Reads.Where(r => r.Block == 10), Is.EqualTo(new[] { (10L, 1), (10L, 1) }));
    }

    [Test]
    public void ABlockRemovedDuringTheReadIsNotInserted()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, 1024 * Bs);
        RunGated(dev, cache, 10, 4, () => cache.Remove(12));
        Assert.That(cache.TryGet(12, out _), Is.False);
        Assert.That(cache.TryGet(11, out _), Is.True);
        Assert.That(cache.TryGet(13, out _), Is.True);
    }

    [Test]
    public void WhenTheUnpinRecordNoLongerReachesBackEveryBlockIsInDoubt()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, 1024 * Bs);
        byte[] got = RunGated(dev, cache, 10, 4, () =>
        {
            for (int i = 0; i <= BlockCache.UnpinHistory; i++)
            {
                var v = dev.Version(300, i + 1);
                cache.Install(300, v);
                cache.TakeUnlogged();
                cache.MarkClean(300, v);
            }
        });
        Assert.That(got, Is.EqualTo(dev.Version(10, 0)));
        Assert.That(cache.ReadaheadBlocks, Is.Zero, "no readahead block inserted");
        Assert.That(cache.TryGet(11, out _), Is.False);
        Assert.That(dev.Reads, Is.EqualTo(new[] { (10L, 4), (10L, 1) }), "the missed block was read again");
    }

    [Test]
    public void UnpinsOfOtherBlocksDoNotCostAReadOrAReadaheadBlock()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, 1024 * Bs);
        RunGated(dev, cache, 10, 4, () =>
        {
            var v = dev.Version(300, 1);
            cache.Install(300, v);
            cache.TakeUnlogged();
            cache.MarkClean(300, v);
        });
        Assert.That(cache.ReadaheadBlocks, Is.EqualTo(3));
        Assert.That(dev.Reads.Count, Is.EqualTo(1));
    }

    /// <summary>Installs <paramref name="newer"/> as <paramref name="block"/>, commits it, writes it home, unpins it and reads other blocks until it is evicted.</summary>
    private static void WriteHomeAndEvict(GatedMemoryDevice dev, BlockCache cache, ulong block, byte[] newer)
    {
        cache.Install(block, newer);
        Assert.That(cache.TakeUnlogged().Single().Data, Is.SameAs(newer), "committed");
        dev.WriteBlock((long)block, newer);
        cache.MarkClean(block, newer);
        Assert.That(cache.TryGet(block, out var clean) && ReferenceEquals(clean, newer), Is.True);
        for (ulong b = 100; b < 100 + (ulong)cache.Capacity; b++)
        {
            cache.Get(b);
        }

        Assert.That(cache.TryGet(block, out _), Is.False, "evicted");
    }

    /// <summary>Runs Get(<paramref name="block"/>, <paramref name="readahead"/>) on a thread whose device read is held at the gate while <paramref name="meanwhile"/> runs.</summary>
    private static byte[] RunGated(GatedMemoryDevice dev, BlockCache cache, ulong block, int readahead, Action meanwhile)
    {
        dev.Arm();
        byte[]? result = null;
        Exception? failure = null;
        var reader = new Thread(() =>
        {
            try
            {
                result = cache.Get(block, readahead);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        reader.Start();
        try
        {
            Assert.That(dev.Entered.Wait(TimeSpan.FromMinutes(2)), Is.True, "the reader reached the device");
            meanwhile();
        }
        finally
        {
            dev.Release.Set();
            reader.Join();
        }

        Assert.That(failure, Is.Null, failure?.ToString());
        return result!;
    }
}
