using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// Flips random bytes inside the metadata of real images (superblock, descriptors, used
/// inodes, directory blocks, extent blocks, xattr blocks) and walks the whole tree through
/// every public entry point. The only acceptable failures are the engine's typed exceptions;
/// an IndexOutOfRange, overflow, argument or null-reference exception is a parser bug.
/// Seeds are fixed so a failure reproduces.
/// </summary>
public class MutationTests
{
    private const int Iterations = 400;

    [Test]
    public void RandomMetadataDamage([Values("csum", "nocsum", "ext2-1k", "inline")] string layout)
    {
        string[] options = layout switch
        {
            "csum" => ["-b", "4096"],
            "nocsum" => ["-b", "4096", "-O", "^metadata_csum"],
            "inline" => ["-b", "4096", "-O", "inline_data,^metadata_csum"],
            _ => ["-t", "ext2", "-b", "1024", "-I", "128"],
        };
        int blockSize = layout == "ext2-1k" ? 1024 : 4096;
        using var image = TestImage.Build(src => Populate(src, blockSize), "16M", options);
        Tool.Run("timeout", ["120", "e2fsck", "-fyD", image.ImagePath], 150);
        var clean = File.ReadAllBytes(image.ImagePath);
        var targets = MetadataRanges(image, clean, blockSize);
        Assert.That(targets.Count, Is.GreaterThan(20));

        // The clean image walks without any error at all.
        Assert.That(Walk(clean), Is.EqualTo(0), "clean image");

        var unexpected = new List<string>();
        int damaged = 0;
        for (int seed = 0; seed < Iterations; seed++)
        {
            var rng = new Random(seed);
            var copy = (byte[])clean.Clone();
            int flips = 1 + rng.Next(6);
            for (int i = 0; i < flips; i++)
            {
                var (start, length) = targets[rng.Next(targets.Count)];
                long at = start + rng.Next(length);
                copy[at] = rng.Next(4) switch
                {
                    0 => 0,
                    1 => 0xFF,
                    _ => (byte)(copy[at] ^ (1 << rng.Next(8))),
                };
            }

            try
            {
                damaged += Walk(copy) > 0 ? 1 : 0;
            }
            catch (Exception e)
            {
                unexpected.Add($"seed {seed}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }

        Assert.That(unexpected, Is.Empty, string.Join("\n\n", unexpected.Take(3)));
        // Without checksums many flips (times, modes, free counts) are harmless; some must still hit parsers.
        Assert.That(damaged, Is.GreaterThan(Iterations / 20), "the mutations must actually reach the parsers");
        TestContext.Out.WriteLine($"{layout}: {damaged} of {Iterations} damaged images raised typed errors");
    }

    private static void Populate(string src, int blockSize)
    {
        var rng = new Random(99);
        for (int i = 0; i < 20; i++)
        {
            var data = new byte[rng.Next(0, 3 * blockSize)];
            rng.NextBytes(data);
            File.WriteAllBytes(Path.Combine(src, $"file{i}"), data);
        }

        Directory.CreateDirectory(Path.Combine(src, "big"));
        for (int i = 0; i < 400; i++)
        {
            File.WriteAllText(Path.Combine(src, "big", $"entry-{i}-{new string('q', i % 40)}"), "");
        }

        Directory.CreateDirectory(Path.Combine(src, "a/b/c"));
        File.CreateSymbolicLink(Path.Combine(src, "a/short"), "target");
        File.CreateSymbolicLink(Path.Combine(src, "a/long"), new string('t', 200));
        using (var fs = new FileStream(Path.Combine(src, "a/b/many"), FileMode.CreateNew))
        {
            for (int i = 0; i < 60; i++)
            {
                fs.Position = (long)i * 2 * blockSize;
                fs.WriteByte(7);
            }
        }

        File.WriteAllText(Path.Combine(src, "a/xattrs"), "x");
        Tool.Check("setfattr", "-n", "user.one", "-v", "1", Path.Combine(src, "a/xattrs"));
        Tool.Check("setfattr", "-n", "user.big", "-v", new string('b', 300), Path.Combine(src, "a/xattrs"));
        Tool.Check("setfacl", "-m", "u:1:r,u:2:w,g:3:x", Path.Combine(src, "a/xattrs"));
    }

    /// <summary>Byte ranges worth damaging: superblock, first descriptor block, each used inode, each directory, extent and xattr block.</summary>
    private static List<(long Start, int Length)> MetadataRanges(TestImage image, byte[] bytes, int blockSize)
    {
        var ranges = new List<(long, int)> { (SuperblockLayout.Offset, SuperblockLayout.Size), ((long)(blockSize == 1024 ? 2 : 1) * blockSize, blockSize) };
        using var opened = TestImage.OpenPath(image.ImagePath);
        var v = opened.Volume;
        var seen = new HashSet<uint>();
        var queue = new Queue<uint>([PathWalk.RootIno]);
        while (queue.Count > 0)
        {
            uint ino = queue.Dequeue();
            if (!seen.Add(ino))
            {
                continue;
            }

            ranges.Add((Locate.Inode(image.ImagePath, ino, blockSize), v.InodeSize));
            var inode = v.ReadInode(ino);
            if (inode.FileAcl != 0)
            {
                ranges.Add(((long)inode.FileAcl * blockSize, blockSize));
            }

            if (inode.HasFlag(InodeLayout.EXT4_EXTENTS_FL))
            {
                foreach (var b in Locate.ExtentTreeBlocks(image.ImagePath, $"<{ino}>"))
                {
                    ranges.Add((b * blockSize, blockSize));
                }
            }

            if (inode.IsDirectory)
            {
                for (uint l = 0; l < inode.Size / blockSize; l++)
                {
                    ranges.Add((Locate.Block(image.ImagePath, $"<{ino}>", l) * blockSize, blockSize));
                }

                foreach (var e in v.ReadDirectory(inode))
                {
                    queue.Enqueue(e.Inode);
                }
            }
        }

        Assert.That(ranges.All(r => r.Item1 >= 0 && r.Item1 + r.Item2 <= bytes.Length), Is.True);
        return ranges;
    }

    /// <summary>Walks everything reachable; returns the number of typed errors met (other exceptions propagate).</summary>
    private static int Walk(byte[] image)
    {
        int errors = 0;
        bool Try(Action a)
        {
            try
            {
                a();
                return true;
            }
            catch (Ext4CorruptionException)
            {
                errors++;
            }
            catch (Ext4IOException)
            {
                errors++;
            }

            return false;
        }

        Ext4Volume v;
        try
        {
            v = Ext4Volume.Open(new MemoryBlockDevice(image), new Ext4OpenOptions { CacheBytes = 1 << 20 });
        }
        catch (Ext4MountException)
        {
            return 1;
        }

        using (v)
        {
            Try(() => v.StatFs());
            var seen = new HashSet<uint>();
            var queue = new Queue<uint>([PathWalk.RootIno]);
            var buffer = new byte[64 * 1024];
            int budget = 5000; // operations per image: the walk itself must not be the hang
            while (queue.Count > 0 && budget-- > 0)
            {
                uint ino = queue.Dequeue();
                if (!seen.Add(ino))
                {
                    continue;
                }

                Ext4Inode? inode = null;
                if (!Try(() => inode = v.ReadInode(ino)) || inode == null)
                {
                    continue;
                }

                Try(() =>
                {
                    foreach (var name in v.ListXattrNames(inode))
                    {
                        v.GetXattr(inode, name);
                    }
                });

                if (inode.IsDirectory)
                {
                    IReadOnlyList<Ext4DirEntry>? entries = null;
                    Try(() => entries = v.ReadDirectory(inode));
                    foreach (var e in entries ?? [])
                    {
                        Try(() => v.Lookup(inode, e.Name));
                        queue.Enqueue(e.Inode);
                    }

                    Try(() => v.Lookup(inode, "surely-absent"u8));
                }
                else if (inode.IsSymlink)
                {
                    Try(() => v.ReadSymlink(inode));
                }
                else
                {
                    Try(() =>
                    {
                        long pos = 0;
                        for (int i = 0; i < 8 && pos < inode.Size; i++)
                        {
                            int n = v.Read(inode, pos, buffer);
                            if (n == 0)
                            {
                                break;
                            }

                            pos += n;
                        }

                        v.Read(inode, Math.Max(0, inode.Size - 10), buffer);
                    });
                }
            }
        }

        return errors;
    }
}
