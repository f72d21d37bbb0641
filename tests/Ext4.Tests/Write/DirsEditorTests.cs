using System.Buffers.Binary;
using System.Text;
using Safemount.Ext4.Format;
using D = Safemount.Ext4.Format.DirEntryLayout;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// <see cref="DirectoryEditor"/> and <see cref="DirectoryBlock"/> over an in-memory directory:
/// after every batch the whole structure is checked independently (records tile each block,
/// checksums, index counts/limits/ordering, every leaf reached once, every record's hash inside
/// its leaf's range) and every name is found. Real images and e2fsck are in DirsVolumeTests.
/// </summary>
public class DirsEditorTests
{
    private const uint Self = 12;
    private const uint Parent = 2;
    private const uint InodeSeed = 0xC0FFEE00;
    private static readonly uint[] Seed = [0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00];

    private static DirectoryEditorParams Params(bool csum, bool dirIndex, int maxLevels = 2, byte hashVersion = DirHash.DX_HASH_HALF_MD4, bool unsignedHash = false) =>
        new(csum, InodeSeed, dirIndex, Indexed: false, hashVersion, unsignedHash, Seed, maxLevels);

    private static DirsMemoryBlocks NewDir(int bs, bool csum)
    {
        var blocks = new DirsMemoryBlocks(bs);
        Assert.That(blocks.TryAppend(
            b =>
            {
                DirectoryBlock.InitDotDot(b, Self, Parent, filetype: true, csum);
                if (csum)
                {
                    DirectoryBlock.SetChecksum(b, InodeSeed);
                }
            },
            out uint lblk), Is.True);
        Assert.That(lblk, Is.Zero);
        return blocks;
    }

    internal static string NameOf(int i) => (i % 5) switch
    {
        0 => $"f{i}",
        1 => $"a-rather-longer-file-name-{i:D7}",
        2 => $"caf\u00e9-\u65e5\u672c-{i}",
        3 => new string((char)('a' + (i % 26)), 120 + (i % 100)) + i,
        _ => $"n{i:X}",
    };

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public void LinearWithoutDirIndexGrowsBlocks([Values(1024, 4096)] int bs, [Values] bool csum)
    {
        var blocks = NewDir(bs, csum);
        var p = Params(csum, dirIndex: false);
        var ed = new DirectoryEditor(blocks, p);
        const int n = 1500;
        for (int i = 0; i < n; i++)
        {
            Assert.That(ed.Add(B(NameOf(i)), (uint)(100 + i), FileTypes.EXT4_FT_REG_FILE), Is.EqualTo(DirEditResult.Ok));
        }

        Assert.That(blocks.Indexed, Is.False);
        Assert.That(blocks.Count, Is.GreaterThan(10u));
        var live = Check(blocks, p, ed.IsIndexed);
        Assert.That(live, Has.Count.EqualTo(n + 2));
        for (int i = 0; i < n; i += 3)
        {
            Assert.That(ed.Remove(B(NameOf(i)), out uint ino), Is.EqualTo(DirEditResult.Ok));
            Assert.That(ino, Is.EqualTo((uint)(100 + i)));
        }

        live = Check(blocks, p, ed.IsIndexed);
        for (int i = 0; i < n; i++)
        {
            Assert.That(ed.Locate(B(NameOf(i)))?.Inode, Is.EqualTo(i % 3 == 0 ? null : (uint?)(100 + i)), NameOf(i));
        }

        Assert.That(live.Keys, Is.EquivalentTo(Enumerable.Range(0, n).Where(i => i % 3 != 0).Select(NameOf).Append(".").Append("..")));

        // Freed slots are reused before any block is appended.
        uint before = blocks.Count;
        for (int i = 0; i < n; i += 3)
        {
            Assert.That(ed.Add(B(NameOf(i)), (uint)(100 + i), FileTypes.EXT4_FT_REG_FILE), Is.EqualTo(DirEditResult.Ok));
        }

        Assert.That(blocks.Count, Is.EqualTo(before));
        Assert.That(Check(blocks, p, ed.IsIndexed), Has.Count.EqualTo(n + 2));
        Assert.That(ed.IsEmpty(), Is.False);
        for (int i = 0; i < n; i++)
        {
            Assert.That(ed.Remove(B(NameOf(i)), out _), Is.EqualTo(DirEditResult.Ok));
        }

        Assert.That(ed.IsEmpty(), Is.True);
        Assert.That(Check(blocks, p, ed.IsIndexed).Keys, Is.EquivalentTo(new[] { ".", ".." }));
    }

    [Test]
    public void OutcomesAndRefusedNames()
    {
        var blocks = NewDir(1024, csum: true);
        var ed = new DirectoryEditor(blocks, Params(true, true));
        Assert.That(ed.Add("x"u8, 20, FileTypes.EXT4_FT_REG_FILE), Is.EqualTo(DirEditResult.Ok));
        Assert.That(ed.Add("x"u8, 21, FileTypes.EXT4_FT_REG_FILE), Is.EqualTo(DirEditResult.Exists));
        Assert.That(ed.Remove("y"u8, out _), Is.EqualTo(DirEditResult.NotFound));
        Assert.That(ed.Replace("x"u8, 30, FileTypes.EXT4_FT_DIR, out uint old), Is.EqualTo(DirEditResult.Ok));
        Assert.That(old, Is.EqualTo(20u));
        Assert.That(ed.Locate("x"u8)?.Inode, Is.EqualTo(30u));
        Assert.That(ed.DotDot(), Is.EqualTo(Parent));
        ed.SetDotDot(77);
        Assert.That(ed.DotDot(), Is.EqualTo(77u));
        Check(blocks, Params(true, true), ed.IsIndexed);

        Assert.That(DirectoryBlock.CheckName(""u8), Is.EqualTo(DirNameProblem.Empty));
        Assert.That(DirectoryBlock.CheckName("."u8), Is.EqualTo(DirNameProblem.Dot));
        Assert.That(DirectoryBlock.CheckName(".."u8), Is.EqualTo(DirNameProblem.Dot));
        Assert.That(DirectoryBlock.CheckName("a/b"u8), Is.EqualTo(DirNameProblem.BadByte));
        Assert.That(DirectoryBlock.CheckName("a\0b"u8), Is.EqualTo(DirNameProblem.BadByte));
        Assert.That(DirectoryBlock.CheckName(new byte[256].AsSpan().ToArray().Select(_ => (byte)'a').ToArray()), Is.EqualTo(DirNameProblem.TooLong));
        Assert.That(DirectoryBlock.CheckName(Enumerable.Repeat((byte)'a', 255).ToArray()), Is.Null);
        Assert.That(DirectoryBlock.CheckName("..."u8), Is.Null);
        Assert.Throws<ArgumentException>(() => ed.Add("a/b"u8, 5, 1));
    }

    [Test]
    public void FirstRecordRemovalKeepsItsRecordAndSlackIsReused()
    {
        var blocks = new DirsMemoryBlocks(1024);
        Assert.That(blocks.TryAppend(
            b =>
            {
                DirectoryBlock.InitEmpty(b, csum: true);
                DirectoryBlock.SetChecksum(b, InodeSeed);
            },
            out _), Is.True);
        var ed = new DirectoryEditor(blocks, Params(true, false));
        Assert.That(ed.Add("first"u8, 20, 1), Is.EqualTo(DirEditResult.Ok));
        Assert.That(ed.Add("second"u8, 21, 1), Is.EqualTo(DirEditResult.Ok));
        Assert.That(ed.Remove("first"u8, out _), Is.EqualTo(DirEditResult.Ok));
        byte[] b = blocks.Read(0)!;
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(b), Is.Zero, "first record unused, not merged away");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(D.rec_len)), Is.EqualTo(D.RecLen(5)));
        Assert.That(ed.Add("abcd"u8, 22, 1), Is.EqualTo(DirEditResult.Ok));
        Assert.That(DirectoryBlock.Live(blocks.Read(0)!, 0, 1012)[0].Offset, Is.Zero, "a name that fits takes the unused first record");
        Assert.That(ed.Remove("second"u8, out _), Is.EqualTo(DirEditResult.Ok));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(blocks.Read(0)!.AsSpan(D.rec_len)), Is.EqualTo(1012), "merged into the previous record");
        Check(blocks, Params(true, false), false);
    }

    [Test]
    public void HtreeGrowsThroughLeafAndIndexSplits(
        [Values(1024, 4096)] int bs, [Values] bool csum,
        [Values(DirHash.DX_HASH_HALF_MD4, DirHash.DX_HASH_TEA, DirHash.DX_HASH_LEGACY)] byte version)
    {
        var blocks = NewDir(bs, csum);
        var p = Params(csum, dirIndex: true, hashVersion: version, unsignedHash: version == DirHash.DX_HASH_TEA);
        var ed = new DirectoryEditor(blocks, p);
        int n = bs == 1024 ? 12_000 : 6_000;
        for (int i = 0; i < n; i++)
        {
            Assert.That(ed.Add(B(NameOf(i)), (uint)(100 + i), FileTypes.EXT4_FT_REG_FILE), Is.EqualTo(DirEditResult.Ok), NameOf(i));
        }

        Assert.That(blocks.Indexed, Is.True);
        var live = Check(blocks, p, ed.IsIndexed, out int levels);
        Assert.That(live, Has.Count.EqualTo(n + 2));
        if (bs == 1024)
        {
            Assert.That(levels, Is.EqualTo(1), "1 KiB blocks need a second index level");
        }

        for (int i = 0; i < n; i++)
        {
            Assert.That(ed.Locate(B(NameOf(i)))?.Inode, Is.EqualTo((uint)(100 + i)), NameOf(i));
        }

        for (int i = 1; i < n; i += 2)
        {
            Assert.That(ed.Remove(B(NameOf(i)), out _), Is.EqualTo(DirEditResult.Ok));
        }

        Assert.That(Check(blocks, p, ed.IsIndexed), Has.Count.EqualTo((n / 2) + 2));
        Assert.That(ed.Locate(B(NameOf(1))), Is.Null);
        Assert.That(ed.Locate(B(NameOf(2)))?.Inode, Is.EqualTo(102u));
    }

    [Test]
    public void EqualHashesContinueAcrossLeaves()
    {
        // 255-byte names: a 1 KiB leaf holds 3. Many pairs of names with one hash (birthday
        // search), so some leaf split falls between the two of a pair: the new index entry then
        // carries the continuation bit and lookups must walk on to the next leaf.
        const byte version = DirHash.DX_HASH_LEGACY;
        var firstOfHash = new Dictionary<uint, int>();
        var pairs = new List<(int, int)>();
        for (int i = 0; pairs.Count < 300 && i < 4_000_000; i++)
        {
            uint h = DirHash.Hash(B(LongName(i)), version, Seed);
            if (!firstOfHash.TryAdd(h, i))
            {
                pairs.Add((firstOfHash[h], i));
            }
        }

        Assert.That(pairs, Has.Count.EqualTo(300), "birthday collisions of the legacy hash");
        var names = pairs.SelectMany(pr => new[] { LongName(pr.Item1), LongName(pr.Item2) }).ToList();
        var blocks = NewDir(1024, true);
        var p = Params(true, true, hashVersion: version);
        var ed = new DirectoryEditor(blocks, p);
        for (int i = 0; i < names.Count; i++)
        {
            Assert.That(ed.Add(B(names[i]), (uint)(100 + i), 1), Is.EqualTo(DirEditResult.Ok));
        }

        Check(blocks, p, ed.IsIndexed);
        int continued = 0;
        for (uint l = 0; l < blocks.Count; l++)
        {
            byte[] b = blocks.Read(l)!;
            bool node = BinaryPrimitives.ReadUInt32LittleEndian(b) == 0 && BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)) == 1024;
            if (l == 0 || node)
            {
                int entries = l == 0 ? 32 : 8;
                int count = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(entries + 2));
                continued += Enumerable.Range(1, count - 1).Count(i => (BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(entries + (8 * i))) & 1) == 1);
            }
        }

        Assert.That(continued, Is.GreaterThan(0), "some split fell inside a collision");
        for (int i = 0; i < names.Count; i++)
        {
            Assert.That(ed.Locate(B(names[i]))?.Inode, Is.EqualTo((uint)(100 + i)), names[i]);
        }

        for (int i = 0; i < names.Count; i += 2)
        {
            Assert.That(ed.Remove(B(names[i]), out uint ino), Is.EqualTo(DirEditResult.Ok));
            Assert.That(ino, Is.EqualTo((uint)(100 + i)));
            Assert.That(ed.Locate(B(names[i + 1]))?.Inode, Is.EqualTo((uint)(101 + i)));
        }
    }

    [Test]
    public void FullTreeAtMaxDepthIsNoSpaceAndLargeDirGoesDeeper()
    {
        var blocks = NewDir(1024, csum: true);
        var p = Params(true, true, maxLevels: 2);
        var ed = new DirectoryEditor(blocks, p);
        int added = 0;
        DirEditResult r;
        while ((r = ed.Add(B(LongName(added)), (uint)(100 + added), 1)) == DirEditResult.Ok)
        {
            added++;
        }

        Assert.That(r, Is.EqualTo(DirEditResult.NoSpace));
        Assert.That(added, Is.GreaterThan(123 * 63), "at least a root of half-full nodes of 2-name leaves");
        var live = Check(blocks, p, ed.IsIndexed, out int levels);
        Assert.That(levels, Is.EqualTo(1));
        Assert.That(live, Has.Count.EqualTo(added + 2));

        // The same directory under large_dir takes a third level.
        var ed3 = new DirectoryEditor(blocks, p with { Indexed = true, MaxLevels = 3 });
        Assert.That(ed3.Add(B(LongName(added)), 99, 1), Is.EqualTo(DirEditResult.Ok));
        live = Check(blocks, p with { MaxLevels = 3 }, true, out levels);
        Assert.That(levels, Is.EqualTo(2));
        Assert.That(live, Has.Count.EqualTo(added + 3));
        Assert.That(ed3.Locate(B(LongName(0)))?.Inode, Is.EqualTo(100u));
        Assert.That(ed3.Locate(B(LongName(added)))?.Inode, Is.EqualTo(99u));
    }

    private static string LongName(int i) => i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture) + new string('L', 247);

    [Test]
    public void AllocationFailureLeavesTheDirectoryValid([Values] bool csum)
    {
        var blocks = NewDir(1024, csum);
        var p = Params(csum, true);
        var ed = new DirectoryEditor(blocks, p);
        blocks.MaxBlocks = 30;
        int added = 0;
        DirEditResult r;
        while ((r = ed.Add(B(NameOf(added)), (uint)(100 + added), 1)) == DirEditResult.Ok)
        {
            added++;
        }

        Assert.That(r, Is.EqualTo(DirEditResult.NoSpace));
        Assert.That(blocks.Count, Is.EqualTo(30u));
        Assert.That(Check(blocks, p, ed.IsIndexed), Has.Count.EqualTo(added + 2));
        for (int i = 0; i < added; i++)
        {
            Assert.That(ed.Locate(B(NameOf(i)))?.Inode, Is.EqualTo((uint)(100 + i)));
        }

        // A linear one-block directory that cannot get its second block stays linear.
        var small = NewDir(1024, csum);
        small.MaxBlocks = 1;
        var eds = new DirectoryEditor(small, p);
        int k = 0;
        while (eds.Add(B(NameOf(k)), (uint)(100 + k), 1) == DirEditResult.Ok)
        {
            k++;
        }

        Assert.That(small.Indexed, Is.False);
        Assert.That(Check(small, p, eds.IsIndexed), Has.Count.EqualTo(k + 2));
    }

    [Test]
    public void CorruptRecordIsATypedError()
    {
        var blocks = NewDir(1024, csum: false);
        var ed = new DirectoryEditor(blocks, Params(false, false));
        Assert.That(ed.Add("a"u8, 20, 1), Is.EqualTo(DirEditResult.Ok));
        blocks.Modify(0, b => BinaryPrimitives.WriteUInt16LittleEndian(b[(12 + D.rec_len)..], 2000));
        Assert.Throws<Ext4CorruptionException>(() => ed.Add("b"u8, 21, 1));
        blocks.Modify(0, b => BinaryPrimitives.WriteUInt16LittleEndian(b[(12 + D.rec_len)..], 13));
        Assert.Throws<Ext4CorruptionException>(() => ed.Remove("a"u8, out _));
    }

    private static Dictionary<string, uint> Check(DirsMemoryBlocks blocks, DirectoryEditorParams p, bool indexed) =>
        Check(blocks, p, indexed, out _);

    /// <summary>Independent structural check; returns every live name (with "." and "..").</summary>
    private static Dictionary<string, uint> Check(DirsMemoryBlocks blocks, DirectoryEditorParams p, bool indexed, out int levels)
    {
        int bs = blocks.BlockSize;
        int end = bs - (p.MetadataCsum ? D.TailSize : 0);
        var names = new Dictionary<string, uint>();
        levels = -1;
        int depthMax = -1;
        void Leaf(byte[] b, uint lblk, uint lo, uint? hi, byte version)
        {
            if (p.MetadataCsum)
            {
                var copy = (byte[])b.Clone();
                DirectoryBlock.InitTail(copy);
                DirectoryBlock.SetChecksum(copy, p.InodeSeed);
                Assert.That(copy, Is.EqualTo(b), $"leaf {lblk}: tail and checksum");
            }

            int o = 0;
            while (o < end)
            {
                var (ino, recLen, nameLen) = DirectoryBlock.Walk(b, o, end);
                if (ino != 0)
                {
                    var name = b.AsSpan(o + D.name, nameLen);
                    Assert.That(names.TryAdd(Encoding.UTF8.GetString(name), ino), Is.True, "unique names");
                    if (version != 255)
                    {
                        uint h = DirHash.Hash(name, version, p.HashSeed);
                        Assert.That(h, Is.GreaterThanOrEqualTo(lo & ~1u), $"leaf {lblk} lower bound");
                        if (hi is uint top)
                        {
                            Assert.That((top & 1) == 1 ? h <= (top & ~1u) : h < top, Is.True, $"leaf {lblk}: hash {h:x} above {top:x}");
                        }
                    }
                }

                o += recLen;
            }

            Assert.That(o, Is.EqualTo(end));
        }

        if (!indexed)
        {
            for (uint l = 0; l < blocks.Count; l++)
            {
                Leaf(blocks.Read(l)!, l, 0, null, 255);
            }

            return names;
        }

        byte[] root = blocks.Read(0)!;
        Assert.That(Encoding.ASCII.GetString(root, 8, 1), Is.EqualTo("."));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(root.AsSpan(12 + D.rec_len)), Is.EqualTo(bs - 12));
        names["."] = BinaryPrimitives.ReadUInt32LittleEndian(root);
        names[".."] = BinaryPrimitives.ReadUInt32LittleEndian(root.AsSpan(12));
        byte v = root[D.info_hash_version];
        byte version = p.UnsignedHash && v <= 2 ? (byte)(v + 3) : v;
        depthMax = root[D.info_indirect_levels];
        levels = depthMax;
        Assert.That(depthMax, Is.LessThan(p.MaxLevels));
        var reached = new HashSet<uint> { 0 };
        void Index(byte[] b, uint lblk, int entries, int expectedLimit, int depth, uint lo, uint? hi)
        {
            int limit = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(entries));
            int count = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(entries + 2));
            Assert.That(limit, Is.EqualTo(expectedLimit), $"block {lblk} limit");
            Assert.That(count, Is.InRange(1, limit), $"block {lblk} count");
            if (p.MetadataCsum)
            {
                var copy = (byte[])b.Clone();
                DirectoryEditor.SetDxChecksum(copy, entries, p.InodeSeed);
                Assert.That(copy, Is.EqualTo(b), $"index block {lblk}: dx_tail checksum");
            }

            for (int i = 0; i < count; i++)
            {
                uint h = i == 0 ? lo : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(entries + (8 * i)));
                uint? next = i + 1 < count ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(entries + (8 * (i + 1)))) : hi;
                if (i > 0)
                {
                    Assert.That(h, Is.GreaterThanOrEqualTo(lo), $"index {lblk} entry {i} ordering");
                }

                if (next is uint n)
                {
                    Assert.That(n, Is.GreaterThanOrEqualTo(h), $"index {lblk} entry {i} ordering");
                }

                uint child = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(entries + (8 * i) + 4));
                Assert.That(child, Is.InRange(1u, blocks.Count - 1));
                Assert.That(reached.Add(child), Is.True, $"block {child} reached once");
                byte[] cb = blocks.Read(child)!;
                if (depth < depthMax)
                {
                    Index(cb, child, 8, (bs - 8 - (p.MetadataCsum ? 8 : 0)) / 8, depth + 1, h, next);
                }
                else
                {
                    Leaf(cb, child, h, next, version);
                }
            }
        }

        Index(root, 0, 32, (bs - 32 - (p.MetadataCsum ? 8 : 0)) / 8, 0, 0, null);
        Assert.That(reached, Has.Count.EqualTo((int)blocks.Count), "every block is in the tree");
        return names;
    }
}
