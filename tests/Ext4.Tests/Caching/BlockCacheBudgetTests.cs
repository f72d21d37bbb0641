using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Caching;

/// <summary>
/// One budget for clean and dirty blocks (bench/RESULTS.md "Run 8c"): installs push clean
/// blocks out, least recently used first, down to <see cref="BlockCache.MinEntries"/>; blocks
/// written home and unpinned come back as clean ones within the budget; a dirty block is never
/// evicted, whatever the budget.
/// </summary>
public class BlockCacheBudgetTests
{
    private const int Bs = 1024;
    private const int Blocks = 1024;
    private const int Budget = 256;

    [Test]
    public void CleanBlocksGiveWayToDirtyOnesDownToTheMinimum()
    {
        var dev = new GatedMemoryDevice(Blocks, Bs);
        var cache = new BlockCache(dev, Bs, Budget * Bs);
        for (ulong b = 0; b < Budget; b++)
        {
            cache.Get(b);
        }

        Assert.That(cache.Count, Is.EqualTo(Budget));
        cache.Get(0); // most recently used: the last clean block to go

        // Dirty blocks outside the cached ones: each takes a clean block's place.
        var versions = new Dictionary<ulong, byte[]>();
        for (ulong b = 512; b < 512 + 100; b++)
        {
            versions[b] = dev.Version((int)b, 1);
            cache.Install(b, versions[b]);
            Assert.That(cache.Count + cache.DirtyCount, Is.EqualTo(Budget), $"after installing {b}");
        }

        Assert.That(cache.TryGet(1, out _), Is.False, "the least recently used clean block went first");
        Assert.That(cache.TryGet(0, out _), Is.True, "the most recently used stays");

        // Past the budget, the clean set stops at its minimum; no dirty block is dropped.
        for (ulong b = 612; b < 612 + 300; b++)
        {
            versions[b] = dev.Version((int)b, 1);
            cache.Install(b, versions[b]);
        }

        Assert.That(cache.DirtyCount, Is.EqualTo(400));
        Assert.That(cache.Count, Is.EqualTo(BlockCache.MinEntries));
        foreach (var (b, v) in versions)
        {
            Assert.That(cache.TryGet(b, out var got) && ReferenceEquals(got, v), Is.True, $"dirty block {b} kept");
        }

        // Written home: unpinned blocks become clean within the budget again.
        foreach (var (b, v) in cache.TakeUnlogged())
        {
            cache.MarkClean(b, v);
        }

        Assert.That(cache.DirtyCount, Is.Zero);
        Assert.That(cache.Count, Is.EqualTo(Budget));
    }
}
