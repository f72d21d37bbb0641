using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// Hash-indexed directories built by e2fsck -fyD: every name is found through the htree, a
/// missing one is not, listings are complete, and a lookup touches only the blocks on its path.
/// </summary>
public class HtreeTests
{
    private static IEnumerable<string> Names(int count)
    {
        for (int i = 0; i < count; i++)
        {
            // Varied lengths, and some bytes >= 0x80 so signed and unsigned hashes differ.
            yield return (i % 7) switch
            {
                0 => $"f{i}",
                1 => $"file-with-a-longer-name-{i:D6}",
                2 => $"caf\u00e9-{i}",
                3 => new string((char)('a' + (i % 26)), 200) + i,
                4 => $"\u65e5\u672c-{i}-\u00ff",
                _ => $"n{i:X}",
            };
        }
    }

    private static TestImage BuildIndexed(int count, int blockSize, string? hashAlg = null, bool unsignedHash = false)
    {
        var names = Names(count).ToArray();
        var image = TestImage.Build(src =>
        {
            Directory.CreateDirectory(Path.Combine(src, "dir"));
            foreach (var n in names)
            {
                File.Create(Path.Combine(src, "dir", n)).Dispose();
            }
        }, "128M", "-N", "32768", "-b", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            if (hashAlg != null)
            {
                Tool.Check("debugfs", "-w", "-R", $"ssv def_hash_version {hashAlg}", image.ImagePath);
                Tool.Check("debugfs", "-w", "-R", $"ssv flags {(unsignedHash ? 2 : 1)}", image.ImagePath);
            }

            var r = Tool.Run("timeout", ["300", "e2fsck", "-fyD", image.ImagePath], 330);
            Assert.That(r.ExitCode, Is.LessThanOrEqualTo(1), r.Stdout + r.Stderr);
            string dump = Tool.Debugfs(image.ImagePath, "htree /dir");
            Assert.That(dump, Does.Contain("Root node dump"), "debugfs sees an htree");
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    [Test]
    public void TwentyThousandEntries([Values(4096, 1024)] int blockSize)
    {
        const int count = 20_000;
        using var image = BuildIndexed(count, blockSize);
        using var opened = image.Open();
        var v = opened.Volume;
        var dir = PathWalk.Inode(v, "dir");
        Assert.That(dir.HasFlag(InodeLayout.EXT4_INDEX_FL), Is.True);
        int levels = dir.Size > 0 ? ReadRootLevels(v, dir) : -1;
        if (blockSize == 1024)
        {
            Assert.That(levels, Is.EqualTo(1), "1 KiB blocks need a two-level index");
        }

        var listing = v.ReadDirectory(dir);
        Assert.That(listing, Has.Count.EqualTo(count + 2));
        var byName = listing.ToDictionary(e => Encoding.UTF8.GetString(e.Name), e => e.Inode);
        foreach (var n in Names(count))
        {
            uint ino = v.Lookup(dir, Encoding.UTF8.GetBytes(n));
            Assert.That(ino, Is.Not.EqualTo(0u), n);
            Assert.That(ino, Is.EqualTo(byName[n]), n);
        }

        Assert.That(v.Lookup(dir, "."u8), Is.EqualTo(dir.Number));
        Assert.That(v.Lookup(dir, ".."u8), Is.EqualTo(PathWalk.RootIno));
        Assert.That(v.Lookup(dir, "f1"u8), Is.EqualTo(0u), "f1 was never created (i % 7 == 1 uses the long form)");
        Assert.That(v.Lookup(dir, "not-there"u8), Is.EqualTo(0u));
        Assert.That(v.Lookup(dir, Encoding.UTF8.GetBytes(new string('z', 255))), Is.EqualTo(0u));
    }

    [Test]
    public void LookupReadsOnlyThePathThroughTheIndex()
    {
        using var image = BuildIndexed(20_000, 4096);
        using var opened = image.Open();
        var v = opened.Volume;
        var dir = PathWalk.Inode(v, "dir");
        int dirBlocks = (int)(dir.Size / v.BlockSize);
        Assert.That(dirBlocks, Is.GreaterThan(100));
        var all = Names(20_000).ToArray();
        foreach (var name in new[] { all[0], all[12345], all[19994], all[7003] })
        {
            long before = v.Cache.Misses;
            Assert.That(v.Lookup(dir, Encoding.UTF8.GetBytes(name)), Is.Not.EqualTo(0u), name);
            long reads = v.Cache.Misses - before;
            // Root + leaf (+ an extent block, + a collision continuation); a linear scan would read about half of the blocks.
            Assert.That(reads, Is.LessThanOrEqualTo(4), $"{name}: {reads} block reads of {dirBlocks}");
        }
    }

    [Test]
    public void HashVariants(
        [Values("legacy", "half_md4", "tea")] string alg,
        [Values(false, true)] bool unsignedHash)
    {
        const int count = 3000;
        using var image = BuildIndexed(count, 1024, alg, unsignedHash);
        using var opened = image.Open();
        var v = opened.Volume;
        var dir = PathWalk.Inode(v, "dir");
        foreach (var n in Names(count))
        {
            Assert.That(v.Lookup(dir, Encoding.UTF8.GetBytes(n)), Is.Not.EqualTo(0u), $"{alg} {(unsignedHash ? "unsigned" : "signed")}: {n}");
        }

        Assert.That(v.Lookup(dir, "absent"u8), Is.EqualTo(0u));
    }

    [Test]
    public void CorruptIndexIsReported()
    {
        using var image = BuildIndexed(3000, 1024);
        long root = Locate.Block(image.ImagePath, "/dir", 0);
        // dx_root_info.indirect_levels = 7: deeper than any htree.
        image.Patch((root * 1024) + DirEntryLayout.info_indirect_levels, [7]);
        using var opened = image.Open();
        var v = opened.Volume;
        var dir = PathWalk.Inode(v, "dir");
        var e = Assert.Throws<Ext4CorruptionException>(() => v.Lookup(dir, "f0"u8))!;
        Assert.That(e.Message, Does.Contain("htree"));
        Assert.Throws<Ext4CorruptionException>(() => v.ReadDirectory(dir));
    }

    private static int ReadRootLevels(Ext4Volume v, Ext4Inode dir)
    {
        var block = new byte[v.BlockSize];
        v.Read(dir, 0, block);
        return block[DirEntryLayout.info_indirect_levels];
    }
}
