using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Write;

namespace Safemount.Ext4.Tests.Iomap;

/// <summary>
/// The engine's announcements that feed fuse-iomap's cache invalidation (Ext4Volume
/// FileMappingChanging and BlocksReusable), on real images: zero range, punch hole, truncate and
/// the unlink of the last name each announce exactly the logical blocks they unmap or convert,
/// before anything is freed; the freed physical blocks (debugfs "ex" before the changes is the
/// oracle) are announced exactly once, with a journal only by the commit that makes the frees
/// durable, without one at the free itself, right after the announcement of the change that
/// freed them. e2fsck -fn is clean afterwards.
/// </summary>
public partial class IomapInvalidationTests
{
    private const int Bs = 4096;

    [TestCase(true)]
    [TestCase(false)]
    public void ChangesAreAnnouncedBeforeTheirBlocksAreReusable(bool journal)
    {
        using var img = journal
            ? IomapImage.BuildSparse(Bs, extents: true)
            : IomapImage.BuildSparse(Bs, extents: true, "-O", "^has_journal");
        uint ino = img.Ino("/s");

        // Blocks of /s: data 0-2, data 10-11, unwritten 14-17, data 23 (IomapImage.BuildSparse).
        var table = IomapImage.BlockTable(img, "/s", IomapImage.SparseBlocks, extents: true);
        long[] Phys(params int[] logical) => [.. logical.Select(l => table[l].Physical)];
        Assert.That(Phys(0, 1, 2, 10, 11, 14, 15, 16, 17, 23), Has.All.GreaterThan(0L), "the layout the test expects");

        // Extent tree blocks (debugfs "(ETBn):block"): freed when the tree shrinks or goes.
        long[] tree = [.. TreeBlock().Matches(Support.Tool.Debugfs(img.Path, "stat /s")).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

        // One list, in call order: ("map", ino, first, count) and ("reuse", start, count, 0).
        var events = new List<(string Kind, ulong A, ulong B, ulong C)>();
        int[] stepEnds = new int[5];
        using (SafeFileHandleScope scope = Open(img.Path))
        {
            Ext4Volume v = scope.Volume;
            Assert.That(v.IsJournaled, Is.EqualTo(journal));
            v.FileMappingChanging = (i, first, count) => events.Add(("map", i, first, count));
            v.BlocksReusable = (start, count) => events.Add(("reuse", start, count, 0));

            Assert.That(v.Fallocate(ino, FileData.FALLOC_FL_ZERO_RANGE | FileData.FALLOC_FL_KEEP_SIZE, 0, 3 * Bs), Is.EqualTo(Ext4Errno.None));
            stepEnds[0] = events.Count;
            Assert.That(v.Fallocate(ino, FileData.FALLOC_FL_PUNCH_HOLE | FileData.FALLOC_FL_KEEP_SIZE, Bs, 10 * Bs), Is.EqualTo(Ext4Errno.None));
            stepEnds[1] = events.Count;
            Assert.That(v.SetSize(ino, (12 * Bs) + 5), Is.EqualTo(Ext4Errno.None));
            stepEnds[2] = events.Count;
            Assert.That(v.Unlink(2, "s"u8), Is.EqualTo(Ext4Errno.None));
            stepEnds[3] = events.Count;
            v.Sync();
            stepEnds[4] = events.Count;
            v.FileMappingChanging = null;
            v.BlocksReusable = null;
        }

        var steps = new List<(string Kind, ulong A, ulong B, ulong C)>[5];
        for (int s = 0, from = 0; s < 5; from = stepEnds[s], s++)
        {
            steps[s] = events[from..stepEnds[s]];
        }

        // Each change announces its logical range first (count ulong.MaxValue = to the end).
        (string, ulong, ulong, ulong)[] maps =
        [
            ("map", ino, 0, 3),               // zero range: blocks 0-2 become unwritten, nothing freed
            ("map", ino, 1, 10),              // punch [1, 11): frees 1, 2, 10
            ("map", ino, 13, ulong.MaxValue), // truncate to 12 blocks + 5 bytes: frees 14-17, 23
            ("map", ino, 0, ulong.MaxValue),  // last name gone, not referenced: frees 0, 11
        ];
        for (int s = 0; s < 4; s++)
        {
            Assert.That(steps[s], Is.Not.Empty, $"step {s}");
            Assert.That(steps[s][0], Is.EqualTo(maps[s]), $"step {s} announces its range before anything else");
            Assert.That(steps[s].Skip(1).Select(e => e.Kind), Has.All.EqualTo("reuse"), $"step {s}: one announcement");
        }

        Assert.That(steps[4].Select(e => e.Kind), Has.All.EqualTo("reuse"), "Sync only releases blocks");
        long[][] freedBy = [[], Phys(1, 2, 10), Phys(14, 15, 16, 17, 23), Phys(0, 11)];
        long[] all = [.. freedBy.SelectMany(b => b).Concat(tree).Order()];
        if (journal)
        {
            Assert.That(steps.Take(4).Sum(s => s.Count - 1), Is.Zero, "with a journal nothing is reusable before the commit");
            Assert.That(Blocks(steps[4]), Is.EqualTo(all), "the commit releases every freed data and tree block once");
            Assert.That(steps[4].Select(e => e.A), Is.Ordered, "in block order, adjacent runs merged");
            Assert.That(steps[4].Zip(steps[4].Skip(1)).All(p => p.First.A + p.First.B < p.Second.A), Is.True, "runs neither touch nor overlap");
        }
        else
        {
            for (int s = 0; s < 4; s++)
            {
                long[] released = Blocks(steps[s].Skip(1));
                Assert.That(released, Is.SupersetOf(freedBy[s]), $"step {s}: its data blocks, reusable at once without a journal");
                Assert.That(released.Except(freedBy[s]), Is.SubsetOf(tree), $"step {s}: besides them only tree blocks");
            }

            Assert.That(Blocks(steps.Take(4).SelectMany(s => s.Skip(1))), Is.EqualTo(all), "every freed data and tree block once");
            Assert.That(steps[4], Is.Empty, "nothing waited for the commit");
        }

        img.AssertConsistent();
    }

    /// <summary>A directory's blocks are freed too, but only regular files have mappings the
    /// kernel caches: rmdir announces no mapping change, yet its block becomes reusable.</summary>
    [Test]
    public void OnlyRegularFilesAnnounceMappingChanges()
    {
        using var img = WriteImage.Wrap(Support.TestImage.Build(src => Directory.CreateDirectory(Path.Combine(src, "d")), "8M", "-O", "^has_journal"));
        uint dir = img.Ino("/d");
        long block = long.Parse(Support.Tool.Debugfs(img.Path, "bmap /d 0").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var events = new List<string>();
        using (SafeFileHandleScope scope = Open(img.Path))
        {
            Ext4Volume v = scope.Volume;
            v.FileMappingChanging = (i, first, count) => events.Add($"map {i}");
            v.BlocksReusable = (start, count) => events.Add($"reuse {start}+{count}");
            Assert.That(v.Rmdir(2, "d"u8), Is.EqualTo(Ext4Errno.None));
            v.FileMappingChanging = null;
            v.BlocksReusable = null;
        }

        Assert.That(dir, Is.Not.Zero);
        Assert.That(events, Is.EqualTo(new[] { $"reuse {block}+1" }));
        img.AssertConsistent();
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\(ETB\d+\):(\d+)")]
    private static partial System.Text.RegularExpressions.Regex TreeBlock();

    private static long[] Blocks(IEnumerable<(string Kind, ulong A, ulong B, ulong C)> reuse) =>
        [.. reuse.SelectMany(e => Enumerable.Range(0, (int)e.B).Select(i => (long)e.A + i)).Order()];

    /// <summary>The image opened read-write with a commit interval no test outlives, so only
    /// the explicit Sync commits.</summary>
    private static SafeFileHandleScope Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true);
        var volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, CommitInterval = TimeSpan.FromHours(1) });
        return new SafeFileHandleScope(handle, device, volume);
    }

    private sealed class SafeFileHandleScope(Microsoft.Win32.SafeHandles.SafeFileHandle handle, FileBlockDevice device, Ext4Volume volume) : IDisposable
    {
        public Ext4Volume Volume => volume;

        public void Dispose()
        {
            volume.Dispose();
            device.Dispose();
            handle.Dispose();
        }
    }
}
