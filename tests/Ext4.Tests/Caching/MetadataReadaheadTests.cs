using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Caching;

/// <summary>
/// Readahead through the engine on images made by mkfs.ext4: an inode-table miss reads the
/// following blocks of the same table, never past the part ever used (bg_itable_unused) nor past
/// the group's table; a directory read reads each contiguous extent in runs; and a read-write
/// volume with the smallest cache, writers and readers at once, stays correct (every name and
/// inode read back, e2fsck -fn clean).
/// </summary>
public class MetadataReadaheadTests
{
    [Test]
    public void AnInodeTableMissReadsAheadOnlyTheUsedPartOfTheTable()
    {
        using var image = TestImage.Build(src => MakeFiles(src, "d", 100), "64M");
        using var opened = image.Open();
        var v = opened.Volume;
        Assume.That(v.HasMetadataCsum, Is.True, "mkfs.ext4's default features have group descriptor checksums");
        ulong table = v.Groups[0].bg_inode_table;
        uint perBlock = v.BlockSize / (uint)v.InodeSize;
        GroupCounters c = v.ReadGroupCounters(0);
        uint used = v.Sb.s_inodes_per_group - c.ItableUnused;
        ulong usedBlocks = (used + perBlock - 1) / perBlock;
        Assert.That(usedBlocks, Is.InRange(3, BlockCache.MaxReadahead), $"{used} inodes used");
        Assert.That(v.Cache.TryGet(table + 1, out _), Is.False, "block 1 of the table is not cached yet");

        long misses = v.Cache.Misses, ahead = v.Cache.ReadaheadBlocks;
        v.ReadInode(perBlock + 1); // the first inode of table block 1
        Assert.That(v.Cache.Misses - misses, Is.EqualTo(1));
        Assert.That(v.Cache.ReadaheadBlocks - ahead, Is.EqualTo((long)usedBlocks - 2), "blocks 2 .. the last used one");
        Assert.That(v.Cache.TryGet(table + usedBlocks - 1, out _), Is.True);
        Assert.That(v.Cache.TryGet(table + usedBlocks, out _), Is.False, "nothing past the last used inode");

        // mkfs gave the directory's files the inodes after it: all of them now come from the cache.
        var entries = v.ReadDirectory(PathWalk.Inode(v, "d")).Where(e => e.Name.Length > 2).ToList();
        Assert.That(entries.Max(e => e.Inode), Is.LessThanOrEqualTo(used));
        misses = v.Cache.Misses;
        foreach (var e in entries)
        {
            Assert.That(v.ReadInode(e.Inode).IsRegular, Is.True);
        }

        Assert.That(v.Cache.Misses - misses, Is.Zero);
    }

    [Test]
    public void WithoutGroupChecksumsTheReadaheadStopsAtTheEndOfTheGroupsTable()
    {
        // flex_bg: group 1's inode table follows group 0's directly.
        using var image = TestImage.Build(src => MakeFiles(src, "d", 10), "64M", "-O", "^metadata_csum,^uninit_bg");
        using var opened = image.Open();
        var v = opened.Volume;
        Assume.That(v.Sb.HasRoCompat(Ext4Features.RO_COMPAT_GDT_CSUM), Is.False);
        ulong table = v.Groups[0].bg_inode_table;
        uint perBlock = v.BlockSize / (uint)v.InodeSize;
        uint ipg = v.Sb.s_inodes_per_group;
        ulong tableBlocks = (ulong)ipg / perBlock;
        Assume.That(v.Groups[1].bg_inode_table, Is.EqualTo(table + tableBlocks), "flex_bg packs the tables");

        long ahead = v.Cache.ReadaheadBlocks;
        v.ReadInode(ipg - (2 * perBlock)); // in the third-last block of group 0's table
        Assert.That(v.Cache.ReadaheadBlocks - ahead, Is.EqualTo(2));
        Assert.That(v.Cache.TryGet(table + tableBlocks - 1, out _), Is.True);
        Assert.That(v.Cache.TryGet(table + tableBlocks, out _), Is.False, "group 1's table is not read ahead");
    }

    [Test]
    public void ADirectoryIsReadInRunsOfItsExtents()
    {
        const int count = 2000;
        // Empty files: no data blocks between the directory's blocks, so mkfs lays them out in long runs.
        using var image = TestImage.Build(src => MakeFiles(src, "big", count, nameLength: 40, empty: true), "64M", "-b", "1024", "-O", "^dir_index");
        using var opened = image.Open();
        var v = opened.Volume;
        var dir = PathWalk.Inode(v, "big");
        uint blocks = (uint)(dir.Size / v.BlockSize);
        Assert.That(blocks, Is.GreaterThan(2 * BlockCache.MaxReadahead));
        var runs = new List<BlockRun>();
        for (uint lblk = 0; lblk < blocks;)
        {
            var run = v.FileData.Map(dir, lblk, blocks - lblk);
            Assert.That(run.Kind, Is.EqualTo(BlockRunKind.Mapped));
            runs.Add(run);
            lblk += run.Length;
        }

        // The block after each run, unless it is the directory's own (a block of it or of its extent tree, read by Map above).
        var dirBlocks = runs.SelectMany(r => Enumerable.Range(0, (int)r.Length).Select(i => r.Physical + (ulong)i)).ToHashSet();
        var beyond = runs.Select(r => r.Physical + r.Length).Where(b => !dirBlocks.Contains(b) && !v.Cache.TryGet(b, out _)).ToList();
        Assert.That(beyond, Is.Not.Empty);

        long misses = v.Cache.Misses, ahead = v.Cache.ReadaheadBlocks;
        var names = v.ReadDirectory(dir).Select(e => Encoding.UTF8.GetString(e.Name)).Where(n => n is not "." and not "..").Order(StringComparer.Ordinal);
        Assert.That(names, Is.EqualTo(Directory.GetFiles(Path.Combine(image.SourcePath, "big")).Select(Path.GetFileName).Order(StringComparer.Ordinal)));

        long bound = runs.Sum(r => (r.Length + BlockCache.MaxReadahead - 1) / BlockCache.MaxReadahead);
        Assert.That(v.Cache.Misses - misses, Is.LessThanOrEqualTo(bound), $"{blocks} blocks in {runs.Count} extents");
        Assert.That(v.Cache.ReadaheadBlocks - ahead, Is.LessThanOrEqualTo(blocks - 1));
        Assert.That(beyond.Where(b => v.Cache.TryGet(b, out _)), Is.Empty, "nothing read past the end of an extent");
        Assert.That(runs.Max(r => r.Length), Is.GreaterThan(BlockCache.MaxReadahead), "mkfs laid out a long contiguous run");
    }

    [Test]
    public void WritersAndReadersWithTheSmallestCacheStayCorrect()
    {
        const int writers = 3, perWriter = 400;
        using var image = TestImage.Build(_ => { }, "64M", "-O", "metadata_csum", "-N", "8192");
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using (var opened = TestImage.OpenPathWritable(image.ImagePath, cacheBytes: 1))
        {
            var v = opened.Volume;
            Assert.That(v.Cache.Capacity, Is.EqualTo(BlockCache.MinEntries));
            var dirs = new uint[writers];
            for (int t = 0; t < writers; t++)
            {
                Assert.That(v.Mkdir(InodeLayout.EXT4_ROOT_INO, Encoding.ASCII.GetBytes($"w{t}"), 0x1ED, 0, 0, out var d), Is.EqualTo(Ext4Errno.None));
                dirs[t] = d!.Number;
            }

            int done = 0;
            var threads = new List<Thread>();
            for (int t = 0; t < writers; t++)
            {
                int w = t;
                threads.Add(new Thread(() => Guard(() =>
                {
                    for (int i = 0; i < perWriter; i++)
                    {
                        var err = v.Create(dirs[w], Encoding.ASCII.GetBytes($"f{i}"), 0x1A4, (uint)i, (uint)w, out _);
                        if (err != Ext4Errno.None)
                        {
                            failures.Enqueue($"create w{w}/f{i}: {err}");
                        }

                        if (i % 50 == 49)
                        {
                            v.Sync(); // write-back: unpins blocks the readers may be reading
                        }
                    }

                    Interlocked.Increment(ref done);
                })));
            }

            for (int t = 0; t < 2; t++)
            {
                threads.Add(new Thread(() => Guard(() =>
                {
                    while (Volatile.Read(ref done) < writers)
                    {
                        foreach (uint d in dirs)
                        {
                            foreach (var e in v.ReadDirectory(d) ?? [])
                            {
                                v.ReadInode(e.Inode);
                            }
                        }
                    }
                })));
            }

            threads.ForEach(th => th.Start());
            threads.ForEach(th => th.Join());
            Assert.That(failures, Is.Empty);

            // Through the same small cache: every name, and every inode as it was written last.
            for (int w = 0; w < writers; w++)
            {
                var entries = v.ReadDirectory(dirs[w])!.Where(e => e.Name.Length > 0 && e.Name[0] == (byte)'f').ToList();
                Assert.That(entries.Select(e => Encoding.ASCII.GetString(e.Name)).Order(StringComparer.Ordinal),
                    Is.EqualTo(Enumerable.Range(0, perWriter).Select(i => $"f{i}").Order(StringComparer.Ordinal)), $"w{w}");
                foreach (var e in entries)
                {
                    var inode = v.ReadInode(e.Inode);
                    Assert.That((inode.Uid, inode.Gid), Is.EqualTo((uint.Parse(Encoding.ASCII.GetString(e.Name)[1..], System.Globalization.CultureInfo.InvariantCulture), (uint)w)));
                }
            }
        }

        Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);

        void Guard(Action body)
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failures.Enqueue(e.ToString());
            }
        }
    }

    private static void MakeFiles(string src, string dir, int count, int nameLength = 8, bool empty = false)
    {
        string d = Path.Combine(src, dir);
        Directory.CreateDirectory(d);
        for (int i = 0; i < count; i++)
        {
            string name = i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
            File.WriteAllBytes(Path.Combine(d, name.PadRight(nameLength, 'n')), empty ? [] : [(byte)i]);
        }
    }
}
