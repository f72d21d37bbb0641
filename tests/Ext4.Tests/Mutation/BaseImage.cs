using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// A clean base image held in memory with its metadata map. The map comes from two sources
/// that check each other: dumpe2fs (superblocks, descriptors, reserved GDT, bitmaps) and the
/// engine's own walk of the clean image (used inodes, extent and indirect blocks, directory
/// blocks with dx_root/dx_node told apart, xattr and symlink blocks). Built once per test run
/// and layout; e2fsck -fn must pass on it.
/// </summary>
internal sealed partial class BaseImage
{
    private static readonly ConcurrentDictionary<string, Lazy<BaseImage>> Cache = new();

    private BaseImage(BaseLayout layout, byte[] bytes, int blockSize, List<MetadataRegion> regions, Dictionary<uint, InodeFacts> inodes, uint inodesCount, ulong blocksCount)
    {
        Layout = layout;
        Bytes = bytes;
        BlockSize = blockSize;
        Regions = regions;
        Inodes = inodes;
        InodesCount = inodesCount;
        BlocksCount = blocksCount;
    }

    public BaseLayout Layout { get; }

    /// <summary>The clean image; never written after construction.</summary>
    public byte[] Bytes { get; }

    public int BlockSize { get; }
    public IReadOnlyList<MetadataRegion> Regions { get; }
    public IReadOnlyDictionary<uint, InodeFacts> Inodes { get; }
    public uint InodesCount { get; }
    public ulong BlocksCount { get; }

    public IEnumerable<MetadataRegion> OfKind(RegionKind kind) => Regions.Where(r => r.Kind == kind);

    /// <summary>The kinds present, in enum order.</summary>
    public IReadOnlyList<RegionKind> Kinds => _kinds ??= [.. Regions.Select(r => r.Kind).Distinct().Order()];

    /// <summary>The regions of one kind (cached; the map never changes).</summary>
    public IReadOnlyList<MetadataRegion> RegionsOf(RegionKind kind) => _byKind[(int)kind] ??= [.. OfKind(kind)];

    private readonly IReadOnlyList<MetadataRegion>?[] _byKind = new IReadOnlyList<MetadataRegion>?[Enum.GetValues<RegionKind>().Length];
    private IReadOnlyList<RegionKind>? _kinds;

    public static BaseImage Get(BaseLayout layout) =>
        Cache.GetOrAdd(layout.Name, _ => new Lazy<BaseImage>(() => Build(layout), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static BaseImage Build(BaseLayout layout)
    {
        using var dir = new TempDir();
        string src = dir["src"];
        Directory.CreateDirectory(src);
        string img = dir["base.img"];
        if (layout.KernelWritten)
        {
            if (Tool.Check("id", "-u").Trim() != "0")
            {
                Assert.Ignore("needs root to let the kernel write the image");
            }

            // An empty file system, then the kernel copies the tree in and preallocates.
            Tool.Check("mkfs.ext4", ["-q", "-F", .. layout.MkfsOptions, img, layout.Size]);
            MutationTree.Populate(src, 4096);
            string mnt = dir["mnt"];
            Directory.CreateDirectory(mnt);
            var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
                $"mount -o loop '{img}' '{mnt}' || exit 1; cp -a '{src}/.' '{mnt}/' && fallocate -l 300000 '{mnt}/prealloc' && printf XY | dd of='{mnt}/prealloc' bs=1 seek=70000 conv=notrunc status=none && mkdir '{mnt}/kdir' && for i in $(seq 1 300); do : > '{mnt}/kdir/kernel-entry-'$i || exit 1; done; rc=$?; sync; umount '{mnt}' || rc=1; exit $rc"], 120);
            Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        }
        else
        {
            int bs = layout.MkfsOptions.Contains("1024") ? 1024 : 4096;
            MutationTree.Populate(src, bs);
            Tool.Check("mkfs.ext4", ["-q", "-F", .. layout.MkfsOptions, "-d", src, img, layout.Size]);
            // Index the big directories (mkfs -d writes them linear).
            var fix = Tool.Run("timeout", ["120", "e2fsck", "-fyD", img], 150);
            Assert.That(fix.ExitCode, Is.LessThanOrEqualTo(1), fix.Stdout + fix.Stderr);
        }

        Assert.That(Tool.FsckClean(img, out string fsck), Is.True, fsck);
        var bytes = File.ReadAllBytes(img);
        var regions = new List<MetadataRegion>();
        int blockSize = FromDumpe2fs(img, regions);
        var inodes = FromEngineWalk(bytes, blockSize, regions, out uint inodesCount, out ulong blocksCount);
        Assert.That(regions.All(r => r.Offset >= 0 && r.Offset + r.Length <= bytes.Length), Is.True, "every region inside the image");
        return new BaseImage(layout, bytes, blockSize, regions, inodes, inodesCount, blocksCount);
    }

    /// <summary>Superblocks, descriptor blocks, reserved GDT blocks and bitmaps as dumpe2fs lists them; returns the block size.</summary>
    private static int FromDumpe2fs(string img, List<MetadataRegion> regions)
    {
        string text = Tool.Check("dumpe2fs", img);
        int bs = int.Parse(BlockSizeLine().Match(text).Groups[1].Value, CultureInfo.InvariantCulture);
        var ds = DescSizeLine().Match(text);
        int perBlock = bs / (ds.Success ? int.Parse(ds.Groups[1].Value, CultureInfo.InvariantCulture) : GroupDescriptor.Size32);
        int group = -1;
        foreach (var line in text.Split('\n'))
        {
            var g = GroupLine().Match(line);
            if (g.Success)
            {
                group = int.Parse(g.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            if (group < 0)
            {
                continue;
            }

            foreach (Match m in Item().Matches(line))
            {
                long a = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                long b = m.Groups[3].Success ? long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : a;
                RegionKind kind = m.Groups[1].Value switch
                {
                    "Primary superblock" => RegionKind.Superblock,
                    "Backup superblock" => RegionKind.BackupSuperblock,
                    "Reserved GDT blocks" => RegionKind.ReservedGdt,
                    "Block bitmap" => RegionKind.BlockBitmap,
                    "Inode bitmap" => RegionKind.InodeBitmap,
                    _ => RegionKind.GroupDescriptors,
                };
                for (long blk = a; blk <= b; blk++)
                {
                    if (kind == RegionKind.Superblock)
                    {
                        regions.Add(new(kind, SuperblockLayout.Offset, SuperblockLayout.Size, (ulong)blk, 0, 0));
                    }
                    else if (kind == RegionKind.BackupSuperblock)
                    {
                        regions.Add(new(kind, blk * bs, SuperblockLayout.Size, (ulong)blk, 0, (uint)group));
                    }
                    else if (kind == RegionKind.GroupDescriptors)
                    {
                        // Index = descriptor block number: its place in the table, or the meta group with meta_bg ("Group descriptor at").
                        uint nr = m.Groups[1].Value == "Group descriptor" ? (uint)(group / perBlock) : (uint)(blk - a);
                        regions.Add(new(kind, blk * bs, bs, (ulong)blk, 0, nr));
                    }
                    else if (kind != RegionKind.ReservedGdt || blk - a < 2)
                    {
                        // Only the first two reserved GDT blocks: mutating dozens of unused blocks proves little.
                        regions.Add(new(kind, blk * bs, bs, (ulong)blk, 0, (uint)group));
                    }
                }
            }
        }

        return bs;
    }

    /// <summary>Used inodes and the blocks they own, found by walking the clean image through the engine from the root (and the journal inode itself).</summary>
    private static Dictionary<uint, InodeFacts> FromEngineWalk(byte[] bytes, int bs, List<MetadataRegion> regions, out uint inodesCount, out ulong blocksCount)
    {
        var facts = new Dictionary<uint, InodeFacts>();
        using var v = Ext4Volume.Open(new MemoryBlockDevice(bytes), new Ext4OpenOptions { CacheBytes = 1 << 20 });
        inodesCount = v.Sb.s_inodes_count;
        blocksCount = v.Sb.s_blocks_count;
        var queue = new Queue<(uint Ino, uint Parent)>([(PathWalk.RootIno, PathWalk.RootIno)]);
        if (v.Sb.HasCompat(Ext4Features.COMPAT_HAS_JOURNAL) && v.Sb.s_journal_inum != 0)
        {
            queue.Enqueue((v.Sb.s_journal_inum, 0));
        }

        while (queue.Count > 0)
        {
            var (ino, parent) = queue.Dequeue();
            if (facts.ContainsKey(ino))
            {
                continue;
            }

            var inode = v.ReadInode(ino);
            uint group = (ino - 1) / v.Sb.s_inodes_per_group;
            long offset = ((long)v.Groups[group].bg_inode_table * bs) + ((long)((ino - 1) % v.Sb.s_inodes_per_group) * v.InodeSize);
            regions.Add(new(RegionKind.Inode, offset, v.InodeSize, (ulong)(offset / bs), ino, 0));
            bool isJournal = parent == 0;
            ulong firstData = 0;
            if (!inode.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL) && inode.Size > 0
                && (inode.IsDirectory || inode.IsRegular || (inode.IsSymlink && inode.Blocks512 > (inode.FileAcl != 0 ? (ulong)bs / 512 : 0))))
            {
                var run = v.FileData.Map(inode, 0, 1);
                firstData = run.Kind == BlockRunKind.Mapped ? run.Physical : 0;
                if (!isJournal)
                {
                    TreeBlocks(v, inode, bs, regions);
                }
            }

            facts[ino] = new InodeFacts(ino, parent, offset, inode.Mode, inode.Flags, inode.Size, firstData);
            if (inode.FileAcl != 0)
            {
                regions.Add(new(RegionKind.XattrBlock, (long)inode.FileAcl * bs, bs, inode.FileAcl, ino, 0));
            }

            if (isJournal)
            {
                continue; // its blocks are journal blocks: not this harness's to mutate
            }

            if (inode.IsSymlink && firstData != 0)
            {
                regions.Add(new(RegionKind.SymlinkBlock, (long)firstData * bs, bs, firstData, ino, 0));
            }

            if (inode.IsDirectory)
            {
                if (!inode.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL))
                {
                    bool indexed = inode.HasFlag(InodeLayout.EXT4_INDEX_FL);
                    for (uint l = 0; l < (ulong)inode.Size / (ulong)bs; l++)
                    {
                        var run = v.FileData.Map(inode, l, 1);
                        if (run.Kind != BlockRunKind.Mapped)
                        {
                            continue;
                        }

                        long at = (long)run.Physical * bs;
                        bool dxNode = BitConverter.ToUInt32(bytes, (int)at) == 0 && BitConverter.ToUInt16(bytes, (int)at + 4) == (bs == 65536 ? 0 : bs) && bytes[at + 6] == 0;
                        var kind = indexed && l == 0 ? RegionKind.DxRoot : indexed && dxNode ? RegionKind.DxNode : RegionKind.DirLeaf;
                        regions.Add(new(kind, at, bs, run.Physical, ino, l));
                    }
                }

                foreach (var e in v.ReadDirectory(inode))
                {
                    if (!e.Name.AsSpan().SequenceEqual("."u8) && !e.Name.AsSpan().SequenceEqual(".."u8))
                    {
                        queue.Enqueue((e.Inode, ino));
                    }
                }
            }
        }

        return facts;
    }

    /// <summary>Extent index/leaf blocks (below the root in i_block) or indirect blocks (i_block[12..14]) of one inode.</summary>
    private static void TreeBlocks(Ext4Volume v, Ext4Inode inode, int bs, List<MetadataRegion> regions)
    {
        var raw = inode.IBlock.ToArray();
        if (inode.HasFlag(InodeLayout.EXT4_EXTENTS_FL))
        {
            ExtentChildren(v, inode.Number, raw, bs, regions, 0);
            return;
        }

        for (int slot = 12; slot <= 14; slot++)
        {
            Indirect(v, inode.Number, BitConverter.ToUInt32(raw, slot * 4), slot - 11, bs, regions);
        }
    }

    private static void ExtentChildren(Ext4Volume v, uint ino, byte[] node, int bs, List<MetadataRegion> regions, int guard)
    {
        int entries = BitConverter.ToUInt16(node, ExtentLayout.eh_entries);
        int depth = BitConverter.ToUInt16(node, ExtentLayout.eh_depth);
        if (depth == 0 || guard > ExtentLayout.MaxDepth)
        {
            return;
        }

        for (int i = 0; i < entries; i++)
        {
            int at = ExtentLayout.EntrySize * (i + 1);
            ulong child = BitConverter.ToUInt32(node, at + ExtentLayout.ei_leaf_lo) | ((ulong)BitConverter.ToUInt16(node, at + ExtentLayout.ei_leaf_hi) << 32);
            regions.Add(new(RegionKind.ExtentBlock, (long)child * bs, bs, child, ino, (uint)(depth - 1)));
            ExtentChildren(v, ino, v.Cache.Get(child), bs, regions, guard + 1);
        }
    }

    private static void Indirect(Ext4Volume v, uint ino, uint block, int level, int bs, List<MetadataRegion> regions)
    {
        if (block == 0)
        {
            return;
        }

        regions.Add(new(RegionKind.IndirectBlock, (long)block * bs, bs, block, ino, (uint)level));
        if (level > 1)
        {
            var b = v.Cache.Get(block);
            for (int i = 0; i < bs / 4; i++)
            {
                Indirect(v, ino, BitConverter.ToUInt32(b, i * 4), level - 1, bs, regions);
            }
        }
    }

    [GeneratedRegex(@"^Block size:\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex BlockSizeLine();

    [GeneratedRegex(@"^Group descriptor size:\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex DescSizeLine();

    [GeneratedRegex(@"^Group (\d+):")]
    private static partial Regex GroupLine();

    [GeneratedRegex(@"(Primary superblock|Backup superblock|Group descriptors?|Reserved GDT blocks|Block bitmap|Inode bitmap) at (\d+)(?:-(\d+))?")]
    private static partial Regex Item();
}
