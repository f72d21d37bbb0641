using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// Seeded mutations of the journal of real kernel-made dirty images (the journal superblock
/// and the live log: descriptor, commit, revoke and data blocks), replayed in memory read-only
/// (overlay) and read-write (onto a writable copy). Every case must end in a successful open
/// (whose tree walk then succeeds or fails typed) or a typed Ext4 exception with a message;
/// never another exception type, a hang (watchdog per case) or a huge allocation.
/// </summary>
[Parallelizable(ParallelScope.None)]
public partial class HostileJournalTests
{
    private const int CasesPerImage = 1500;
    private static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(20);   // a hang detector, not a timing assertion
    private const long MaxAllocatedBytes = 32L << 20;                       // per case (the largest seen is ~0.5 MiB); the images are 16-32 MiB

    public static IEnumerable<TestCaseData> Images()
    {
        yield return new TestCaseData("-b 1024 -J size=1", "", 150, 11).SetName("HostileJournal_1k_CsumV3_Wrapped");
        yield return new TestCaseData("-b 4096 -O ^metadata_csum,^64bit", "", 20, 12).SetName("HostileJournal_4k_NoChecksums_32bitTags");
        yield return new TestCaseData("-b 1024 -O ^metadata_csum", "journal_async_commit,data=writeback", 20, 13).SetName("HostileJournal_1k_V1Checksums_AsyncCommit");
    }

    [TestCaseSource(nameof(Images))]
    public void MutatedJournalsReplayOrFailTyped(string mkfs, string mount, int rounds, int seed)
    {
        DirtyImage.RequireRoot();
        using var dirty = DirtyImage.Make("32M", mkfs, mount, rounds);
        RunMutations(dirty.ImagePath, seed);
    }

    /// <summary>
    /// The same over a journal debugfs writes (no root needed): csum v2 with 16-bit tag
    /// checksums and 32-bit tags, 40 transactions of three blocks, a revoke-only transaction
    /// after every fifth.
    /// </summary>
    [Test]
    public void MutatedCraftedCsumV2JournalsReplayOrFailTyped()
    {
        using var image = TestImage.Build(src => File.WriteAllBytes(Path.Combine(src, "data"), Enumerable.Repeat((byte)'D', 64 * 1024).ToArray()), "16M", "-b", "1024", "-O", "^64bit");
        ulong first = ulong.Parse(Tool.Debugfs(image.ImagePath, "bmap /data 0").Trim());
        Assert.That(first, Is.GreaterThan(1ul), "the file has blocks");
        Assert.That(ulong.Parse(Tool.Debugfs(image.ImagePath, "bmap /data 63").Trim()), Is.EqualTo(first + 63), "and they are contiguous");
        string payload = image.Scratch("payload");
        var bytes = new byte[3 * 1024];
        new Random(5).NextBytes(bytes);
        File.WriteAllBytes(payload, bytes);
        var cmds = new System.Text.StringBuilder("journal_open -c -v 2\n");
        for (int t = 0; t < 40; t++)
        {
            ulong b = first + (ulong)(t % 20) * 3;
            cmds.Append($"journal_write -b {b},{b + 1},{b + 2} {payload}\n");
            if (t % 5 == 4)
            {
                cmds.Append($"journal_write -r {b + 1} /dev/null\n");
            }
        }

        cmds.Append("journal_close\n");
        string path = image.Scratch("cmds");
        File.WriteAllText(path, cmds.ToString());
        var r = Tool.Run("debugfs", ["-w", "-f", path, image.ImagePath]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        Assert.That(Tool.Check("dumpe2fs", "-h", image.ImagePath), Does.Contain("journal_checksum_v2"));
        RunMutations(image.ImagePath, 14);
    }

    /// <summary>Runs <see cref="CasesPerImage"/> seeded mutations of the image's journal, alternating read-only and read-write opens.</summary>
    private static void RunMutations(string imagePath, int seed)
    {
        byte[] pristine = File.ReadAllBytes(imagePath);
        var (blockSize, liveBlocks) = LocateJournal(imagePath, pristine);
        Assert.That(liveBlocks, Has.Count.GreaterThan(10), "the live log is found");

        var image = (byte[])pristine.Clone();
        var rng = new Random(seed);
        var outcomes = new Dictionary<string, int>();
        long maxAllocated = 0;
        for (int i = 0; i < CasesPerImage; i++)
        {
            var mutated = Mutate(image, rng, blockSize, liveBlocks);
            bool readWrite = (i & 1) == 1;
            var device = new WritableMemoryDevice(image);
            string outcome = RunCase(device, readWrite, $"case {i} (seed {seed}, {(readWrite ? "rw" : "ro")}, {mutated.What})", out long allocated);
            maxAllocated = Math.Max(maxAllocated, allocated);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

            if (!readWrite)
            {
                Assert.That(device.Writes, Is.Empty, $"case {i}: a read-only open wrote the device");
            }

            // Restore what the mutation and the replay changed.
            foreach (var (offset, length) in device.Writes.Append((mutated.Offset, mutated.Length)))
            {
                pristine.AsSpan((int)offset, length).CopyTo(image.AsSpan((int)offset));
            }
        }

        Assert.That(image, Is.EqualTo(pristine), "restoration is complete");
        TestContext.Out.WriteLine($"largest allocation of one case: {maxAllocated} bytes");
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Value,6} {o.Key}")));
        Assert.That(outcomes.GetValueOrDefault("opened"), Is.GreaterThan(0), "some mutations are harmless");
        Assert.That(outcomes.Keys.Count(k => k != "opened"), Is.GreaterThan(0), "some mutations are refused");
    }

    /// <summary>Opens, walks the tree (bounded), and names the outcome; fails the test on an untyped exception, a hang or a huge allocation.</summary>
    private static string RunCase(WritableMemoryDevice device, bool readWrite, string label, out long allocatedBytes)
    {
        string? outcome = null;
        Exception? untyped = null;
        long allocated = 0;
        var task = Task.Run(() =>
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                IBlockDeviceOpen(device, readWrite);
                outcome = "opened";
            }
            catch (Exception e) when (e is Ext4MountException or Ext4CorruptionException or Ext4IOException)
            {
                Assert.That(e.Message, Is.Not.Empty);
                outcome = $"{e.GetType().Name}: {Generalize(e.Message)}";
            }
            catch (Exception e)
            {
                untyped = e;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        });

        if (!task.Wait(Watchdog))
        {
            Assert.Fail($"{label}: no outcome within {Watchdog.TotalSeconds} s (hang)");
        }

        Assert.That(untyped, Is.Null, $"{label}: untyped exception {untyped}");
        Assert.That(allocated, Is.LessThan(MaxAllocatedBytes), $"{label}: allocated {allocated} bytes");
        allocatedBytes = allocated;
        return outcome!;
    }

    private static void IBlockDeviceOpen(WritableMemoryDevice device, bool readWrite)
    {
        using var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = !readWrite, CacheBytes = 1 << 20 });
        try
        {
            int budget = 200;
            Walk(v, PathWalk.RootIno, ref budget, 0);
        }
        catch (Exception e) when (e is Ext4CorruptionException or Ext4IOException)
        {
            // A replayed journal may legitimately carry corrupt metadata; reading it fails typed.
        }
    }

    private static void Walk(Ext4Volume v, uint ino, ref int budget, int depth)
    {
        if (--budget < 0 || depth > 8)
        {
            return;
        }

        var inode = v.ReadInode(ino);
        if (inode.IsRegular)
        {
            var buf = new byte[Math.Min(inode.Size, 1 << 16)];
            v.Read(inode, 0, buf);
            return;
        }

        if (!inode.IsDirectory)
        {
            return;
        }

        foreach (var e in v.ReadDirectory(inode))
        {
            if (e.Name.Length > 0 && e.Name[0] != (byte)'.')
            {
                Walk(v, e.Inode, ref budget, depth + 1);
            }
        }
    }

    /// <summary>Numbers out, so outcomes group by kind.</summary>
    private static string Generalize(string message) => Numbers().Replace(message, "#");

    [GeneratedRegex(@"0x[0-9a-fA-F]+|\d+")]
    private static partial Regex Numbers();

    private readonly record struct Mutation(long Offset, int Length, string What);

    /// <summary>
    /// One mutation: 25% in the journal superblock, the rest in a live log block (header and
    /// tag area favoured); a random byte, a flipped bit, an interesting big-endian u32, or a
    /// whole block copied from another live block.
    /// </summary>
    private static Mutation Mutate(byte[] image, Random rng, int blockSize, List<long> live)
    {
        bool inSuperblock = rng.Next(4) == 0;
        long blockStart = inSuperblock ? live[0] : live[1 + rng.Next(live.Count - 1)];
        int span = inSuperblock ? 0x100 : (rng.Next(3) == 0 ? blockSize : 128);
        int kind = rng.Next(inSuperblock ? 3 : 4);
        if (kind == 3)
        {
            long from = live[1 + rng.Next(live.Count - 1)];
            Array.Copy(image, from, image, blockStart, blockSize);
            return new Mutation(blockStart, blockSize, "block copy");
        }

        int at = rng.Next(span);
        if (kind == 0)
        {
            image[blockStart + at] = (byte)rng.Next(256);
            return new Mutation(blockStart + at, 1, "random byte");
        }

        if (kind == 1)
        {
            image[blockStart + at] ^= (byte)(1 << rng.Next(8));
            return new Mutation(blockStart + at, 1, "bit flip");
        }

        at &= ~3;
        uint[] interesting = [0, 1, 2, 3, 4, 5, 8, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 1023, 1024, 1025, (uint)rng.Next()];
        BinaryPrimitives.WriteUInt32BigEndian(image.AsSpan((int)(blockStart + at)), interesting[rng.Next(interesting.Length)]);
        return new Mutation(blockStart + at, 4, "interesting u32");
    }

    /// <summary>
    /// The journal's extents as debugfs lists them (leaf lines "logical a - b physical c - d"),
    /// the block size, and the byte offsets of the live log's blocks (journal superblock first).
    /// </summary>
    private static (int BlockSize, List<long> Live) LocateJournal(string imagePath, byte[] image)
    {
        var extents = new List<(uint Logical, uint End, long Physical)>();
        foreach (Match m in ExtentLine().Matches(Tool.Debugfs(imagePath, "ex <8>")))
        {
            extents.Add((uint.Parse(m.Groups[1].Value), uint.Parse(m.Groups[2].Value), long.Parse(m.Groups[3].Value)));
        }

        int blockSize = 1024 << (int)BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(1024 + 0x18));
        long OffsetOf(uint journalBlock)
        {
            var e = extents.Single(x => journalBlock >= x.Logical && journalBlock <= x.End);
            return (e.Physical + (journalBlock - e.Logical)) * blockSize;
        }

        long offset = OffsetOf(0);
        uint maxlen = BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan((int)offset + 0x10));

        // Live log: every block from the first logged block to the last one logdump found, wrapping at maxlen.
        var logged = JournalReplayTests.LogBlocks(Tool.Debugfs(imagePath, "logdump"));
        var live = new List<long> { offset };
        uint first = BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan((int)offset + 0x14));
        uint b = logged[0].Block;
        uint end = logged[^1].Block;
        for (int guard = 0; guard < maxlen; guard++)
        {
            live.Add(OffsetOf(b));
            if (b == end)
            {
                break;
            }

            b = b + 1 >= maxlen ? first : b + 1;
        }

        return (blockSize, live);
    }

    [GeneratedRegex(@"^\s*\d+/\s*\d+\s+\d+/\s*\d+\s+(\d+) -\s+(\d+)\s+(\d+) -\s+\d+", RegexOptions.Multiline)]
    private static partial Regex ExtentLine();
}
