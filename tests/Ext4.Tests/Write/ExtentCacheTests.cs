using System.Security.Cryptography;
using Safemount.Ext4.Tests.Support;
using Extent = Safemount.Ext4.ExtentTree.Extent;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// ExtentCache and the decoded-inode memo on real images: after every kind of mapping change
/// the cached tree equals a fresh parse and the read path's walk, file contents equal a model,
/// and at the end e2fsck -fn is clean and the kernel reads the same bytes.
/// </summary>
public class ExtentCacheTests
{
    private const int KeepSize = 0x01;
    private const int PunchHole = 0x02;
    private const int ZeroRange = 0x10;
    private const int Bs = 4096;

    /// <summary>Data blocks of the initial file: every other block of 2 × this many, one extent each (a depth-1 tree).</summary>
    private const int InitialBlocks = 600;

    [Test]
    public void EveryMappingChangeIsSeenAndRepeatedEditsHit()
    {
        using var img = SparseFileImage();
        var model = InitialModel();
        uint ino;
        using (var opened = img.Image.OpenWritable())
        {
            var v = opened.Volume;
            ino = v.Lookup(v.ReadInode(2), "f"u8);
            CheckAll(v, ino, model, "initial");

            // Overwrites of mapped blocks: the tree is unchanged, so the second one is a hit.
            Write(v, ino, ref model, 2L * Bs, Pattern(2, 1));
            long parses = v.Extents.Parses, hits = v.Extents.Hits;
            Write(v, ino, ref model, 4L * Bs, Pattern(4, 1));
            Assert.That(v.Extents.Parses, Is.EqualTo(parses), "an overwrite reuses the parsed tree");
            Assert.That(v.Extents.Hits, Is.GreaterThan(hits));
            CheckAll(v, ino, model, "overwrite");

            // Allocation into a hole (a new extent in the leaf).
            Write(v, ino, ref model, 1L * Bs, Pattern(1, 2));
            CheckAll(v, ino, model, "allocating write");

            // Punch: extents removed and split.
            Assert.That(v.Fallocate(ino, PunchHole | KeepSize, 10L * Bs, 21L * Bs), Is.EqualTo(Ext4Errno.None));
            Array.Clear(model, 10 * Bs, 21 * Bs);
            CheckAll(v, ino, model, "punch");

            // Zero range over mapped blocks and holes.
            Assert.That(v.Fallocate(ino, ZeroRange | KeepSize, (40L * Bs) + 100, 30L * Bs), Is.EqualTo(Ext4Errno.None));
            Array.Clear(model, (40 * Bs) + 100, 30 * Bs);
            CheckAll(v, ino, model, "zero range");

            // Preallocation past EOF (unwritten), then a write converting part of it.
            long size = model.Length;
            Assert.That(v.Fallocate(ino, KeepSize, size, 64L * Bs), Is.EqualTo(Ext4Errno.None));
            CheckAll(v, ino, model, "preallocate");
            Write(v, ino, ref model, size + (3 * Bs), Pattern((uint)(size / Bs) + 3, 3));
            CheckAll(v, ino, model, "unwritten conversion");

            // Truncate down (frees the tail and the preallocation), then grow with a write.
            Assert.That(v.SetSize(ino, 301L * Bs + 7), Is.EqualTo(Ext4Errno.None));
            Array.Resize(ref model, (301 * Bs) + 7);
            CheckAll(v, ino, model, "truncate down");
            Write(v, ino, ref model, 500L * Bs, Pattern(500, 4));
            CheckAll(v, ino, model, "write past EOF");

            // Truncate to zero and rebuild: the root goes back to depth 0.
            Assert.That(v.SetSize(ino, 0), Is.EqualTo(Ext4Errno.None));
            model = [];
            CheckAll(v, ino, model, "truncate to zero");
            for (uint b = 0; b < 20; b += 2)
            {
                Write(v, ino, ref model, b * (long)Bs, Pattern(b, 5));
            }

            CheckAll(v, ino, model, "rebuilt");

            // Unlink and create again: the new file (very likely the same inode number) must not see the old tree.
            Assert.That(v.Unlink(2, "f"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(2, "f"u8, 0x81A4, 0, 0, out var created), Is.EqualTo(Ext4Errno.None));
            ino = created!.Number;
            model = [];
            CheckAll(v, ino, model, "recreated");
            Write(v, ino, ref model, 7L * Bs, Pattern(7, 6));
            CheckAll(v, ino, model, "recreated and written");
        }

        img.AssertConsistent();
        AssertKernelReads(img, model);
    }

    [Test]
    public void ConcurrentWritersAndReadersNeverSeeAForeignBlock()
    {
        using var img = SparseFileImage();
        var model = InitialModel();
        const int writers = 3;
        int blocks = (2 * InitialBlocks) - 1; // within the initial i_size: the model never grows
        using (var opened = img.Image.OpenWritable())
        {
            var v = opened.Volume;
            uint ino = v.Lookup(v.ReadInode(2), "f"u8);
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            using var stop = new CancellationTokenSource();

            // Writer w owns the blocks b with b % writers == w: overwrites, hole fills (allocations)
            // and, for writer 0, punches of its own blocks; the model is written under a lock per block stripe.
            var writerTasks = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
            {
                var rng = new Random(100 + w);
                for (int i = 0; i < 400; i++)
                {
                    uint b = (uint)((rng.Next(blocks / writers) * writers) + w);
                    if (w == 0 && i % 25 == 24)
                    {
                        var err = v.Fallocate(ino, PunchHole | KeepSize, b * (long)Bs, Bs);
                        if (err != Ext4Errno.None)
                        {
                            failures.Enqueue($"punch {b}: {err}");
                        }

                        lock (model)
                        {
                            Array.Clear(model, (int)b * Bs, Bs);
                        }

                        continue;
                    }

                    var data = Pattern(b, (uint)(i + 1));
                    var e = v.WriteFile(ino, b * (long)Bs, data, out int n);
                    if (e != Ext4Errno.None || n != Bs)
                    {
                        failures.Enqueue($"write {b}: {e} {n}");
                    }

                    lock (model)
                    {
                        data.CopyTo(model, (int)b * Bs);
                    }
                }
            })).ToArray();

            // Readers: every block read is zeros or carries its own block number (a stale
            // mapping would return another block's bytes, or a freed block's).
            var readerTasks = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
            {
                var rng = new Random(200 + r);
                var buf = new byte[Bs];
                while (!stop.IsCancellationRequested)
                {
                    uint b = (uint)rng.Next(blocks);
                    int got = v.ReadFile(ino, b * (long)Bs, buf);
                    if (got != Bs)
                    {
                        failures.Enqueue($"read {b}: {got} bytes");
                    }
                    else if (buf.AsSpan().ContainsAnyExcept((byte)0) && BitConverter.ToUInt32(buf, 0) != b)
                    {
                        failures.Enqueue($"read {b}: carries block {BitConverter.ToUInt32(buf, 0)}");
                    }
                }
            })).ToArray();

            Task.WaitAll(writerTasks);
            stop.Cancel();
            Task.WaitAll(readerTasks);
            Assert.That(failures, Is.Empty);
            CheckAll(v, ino, model, "after the concurrent run");
        }

        img.AssertConsistent();
        AssertKernelReads(img, model);
    }

    [Test]
    public void ADamagedLeafFailsOnlyTheReadsThatReachIt()
    {
        // 600 one-block extents: two leaves under the root, small enough for the read path to
        // parse whole, so the parse meets the damage even for a read that a walk would not.
        using var img = SparseFileImage();
        var leaves = Locate.ExtentTreeBlocks(img.Path, "/f");
        Assert.That(leaves, Has.Length.EqualTo(2));
        long second = leaves.MaxBy(b => FirstLogical(img.Path, b));
        using (var fs = new FileStream(img.Path, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Position = (second * Bs) + 12 + 12 + 8; // inside the second entry: ee_start_lo
            int b = fs.ReadByte();
            fs.Position -= 1;
            fs.WriteByte((byte)(b ^ 0x01));
        }

        using var opened = img.Image.Open();
        var v = opened.Volume;
        uint ino = v.Lookup(v.ReadInode(2), "f"u8);
        var buf = new byte[Bs];
        Assert.That(v.ReadFile(ino, 0, buf), Is.EqualTo(Bs));
        Assert.That(buf, Is.EqualTo(Pattern(0, 0)), "the healthy leaf still reads");
        Assert.Throws<Ext4ChecksumException>(() => v.ReadFile(ino, (2L * InitialBlocks - 2) * Bs, buf), "the damaged leaf fails");
        Assert.That(v.ReadFile(ino, 2L * Bs, buf), Is.EqualTo(Bs), "and the healthy one still reads after that");
        Assert.That(buf, Is.EqualTo(Pattern(2, 0)));
    }

    /// <summary>ee_block of the first entry of extent tree block <paramref name="block"/> in the image file.</summary>
    private static uint FirstLogical(string image, long block)
    {
        using var fs = new FileStream(image, FileMode.Open, FileAccess.Read);
        var entry = new byte[4];
        fs.Position = (block * Bs) + 12;
        fs.ReadExactly(entry);
        return BitConverter.ToUInt32(entry);
    }

    [Test]
    public void DecodedInodeFollowsEveryChange()
    {
        using var img = WriteImage.Build("64M", 1, "-b", "4096");
        uint ino = img.Ino("/f0");
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            var first = v.ReadInode(ino);
            Assert.That(v.ReadInode(ino), Is.SameAs(first), "an unchanged inode is not decoded again");
            Assert.That(v.WriteFile(ino, 0, new byte[100], out _), Is.EqualTo(Ext4Errno.None));
            var written = v.ReadInode(ino);
            Assert.That(written.Size, Is.EqualTo(100));
            Assert.That(v.SetSize(ino, 5), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(ino).Size, Is.EqualTo(5));
            Assert.That(v.SetAttributes(ino, new Ext4AttributeChange { Mode = 0x8000 | 0x180 }, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(ino).Mode, Is.EqualTo((ushort)(0x8000 | 0x180)));
            Assert.That(first.Size, Is.Zero, "a snapshot handed out earlier never changes");
        }

        img.AssertConsistent();
    }

    /// <summary>/f: data in every other block of 2 × <see cref="InitialBlocks"/>, each block self-identifying.</summary>
    private static WriteImage SparseFileImage() =>
        WriteImage.Wrap(TestImage.Build(src =>
        {
            using var f = new FileStream(Path.Combine(src, "f"), FileMode.CreateNew);
            for (uint b = 0; b < 2 * InitialBlocks; b += 2)
            {
                f.Position = b * (long)Bs;
                f.Write(Pattern(b, 0));
            }
        }, "64M", "-b", "4096", "-O", "metadata_csum,64bit"));

    private static byte[] InitialModel()
    {
        var model = new byte[((2 * InitialBlocks) - 1) * Bs];
        for (uint b = 0; b < 2 * InitialBlocks; b += 2)
        {
            Pattern(b, 0).CopyTo(model, b * Bs);
        }

        return model;
    }

    /// <summary>One block: its logical number, a version, then filler derived from both.</summary>
    private static byte[] Pattern(uint block, uint version)
    {
        var data = new byte[Bs];
        BitConverter.TryWriteBytes(data, block);
        BitConverter.TryWriteBytes(data.AsSpan(4), version);
        for (int i = 8; i < Bs; i++)
        {
            data[i] = (byte)(block + version + i);
        }

        return data;
    }

    /// <summary>Writes through the volume and into the model (which grows as i_size does; the gap reads as zeros).</summary>
    private static void Write(Ext4Volume v, uint ino, ref byte[] model, long offset, byte[] data)
    {
        Assert.That(v.WriteFile(ino, offset, data, out int n), Is.EqualTo(Ext4Errno.None));
        Assert.That(n, Is.EqualTo(data.Length));
        if (model.Length < offset + data.Length)
        {
            Array.Resize(ref model, (int)(offset + data.Length));
        }

        data.CopyTo(model, offset);
    }

    /// <summary>Cached tree == fresh parse == the read path's walk; size and bytes == the model.</summary>
    private static void CheckAll(Ext4Volume v, uint ino, byte[] model, string step)
    {
        var inode = v.ReadInode(ino);
        var fresh = ExtentTree.LoadAll(v, ino, inode.ChecksumSeed, inode.IBlock, [], []);
        var cached = v.Extents.Load(ino, inode.ChecksumSeed, inode.IBlock, [], []);
        Assert.That(cached, Is.EqualTo(fresh), $"{step}: cached tree == fresh parse");
        var again = v.Extents.Load(ino, inode.ChecksumSeed, inode.IBlock, [], []);
        Assert.That(again, Is.EqualTo(fresh), $"{step}: a hit == fresh parse");

        var walked = new List<Extent>();
        for (ulong l = 0; fresh.Count > 0 && l < fresh[^1].End;)
        {
            var run = ExtentTree.Walk(v, inode, (uint)l, (uint)(fresh[^1].End - l));
            if (run.Kind != BlockRunKind.Hole)
            {
                walked.Add(new Extent((uint)l, run.Length, run.Physical, run.Kind == BlockRunKind.Unwritten));
            }

            l += run.Length;
        }

        Assert.That(Merge(walked), Is.EqualTo(Merge(fresh)), $"{step}: the read path's walk agrees");
        var mapped = new List<Extent>();
        for (ulong l = 0; fresh.Count > 0 && l < fresh[^1].End;)
        {
            var run = v.FileData.Map(inode, (uint)l, (uint)(fresh[^1].End - l));
            if (run.Kind != BlockRunKind.Hole)
            {
                mapped.Add(new Extent((uint)l, run.Length, run.Physical, run.Kind == BlockRunKind.Unwritten));
            }

            l += run.Length;
        }

        Assert.That(Merge(mapped), Is.EqualTo(Merge(fresh)), $"{step}: the read path's lookup (cached) agrees");
        Assert.That(inode.Size, Is.EqualTo(model.Length), $"{step}: i_size");
        var content = new byte[model.Length];
        Assert.That(v.ReadFile(ino, 0, content), Is.EqualTo(model.Length));
        Assert.That(content.AsSpan().SequenceEqual(model), Is.True, $"{step}: content");
    }

    /// <summary>Extents with logically and physically adjacent neighbours of one state joined (the walk reports runs, not entries).</summary>
    private static List<Extent> Merge(List<Extent> extents)
    {
        var merged = new List<Extent>();
        foreach (var e in extents)
        {
            if (merged.Count > 0 && merged[^1].End == e.Logical && merged[^1].Physical + merged[^1].Length == e.Physical
                && merged[^1].Unwritten == e.Unwritten)
            {
                merged[^1] = merged[^1] with { Length = merged[^1].Length + e.Length };
            }
            else
            {
                merged.Add(e);
            }
        }

        return merged;
    }

    private static void AssertKernelReads(WriteImage img, byte[] model)
    {
        string expected = Convert.ToHexStringLower(SHA256.HashData(model));
        string got = DirsKernel.ReadOnly(img.Path, img.Image.Scratch("kmnt"), "stat -c %s \"$M/f\"; sha256sum < \"$M/f\" | cut -d' ' -f1");
        Assert.That(got.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { model.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), expected }));
    }
}
