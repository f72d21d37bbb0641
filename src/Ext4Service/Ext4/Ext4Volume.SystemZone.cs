using Safemount.Ext4.Format;

namespace Safemount.Ext4;

public sealed partial class Ext4Volume
{
    /// <summary>EXT4_RESIZE_INO: owns the reserved GDT blocks through its indirect map.</summary>
    internal const uint ResizeInode = 7;

    private Lazy<SystemZone>? _metadataZone; // superblocks, descriptors, bitmaps, inode tables
    private Lazy<SystemZone>? _systemZone;   // the above plus the journal inode's blocks

    /// <summary>Static metadata only; built on first use from the superblock and descriptors.</summary>
    internal SystemZone MetadataZone =>
        (_metadataZone ??= new Lazy<SystemZone>(() => BuildZone(includeJournal: false), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>The full system zone (ext4_setup_system_zone); mapping the journal inode happens on first use.</summary>
    internal SystemZone Zone =>
        (_systemZone ??= new Lazy<SystemZone>(() => BuildZone(includeJournal: true), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>
    /// ext4_inode_block_valid: blocks [block, block+count) mapped by <paramref name="inode"/>
    /// (file data, extent tree blocks, indirect blocks, directory blocks, its xattr block) must
    /// lie inside the file system, above s_first_data_block, and outside the system zone, unless
    /// that part of the zone belongs to the inode itself. The journal inode is checked against
    /// the static metadata only (its own blocks are what is being mapped when the zone is built).
    /// </summary>
    internal void CheckInodeBlocks(Ext4Inode inode, ulong block, ulong count, string what)
    {
        CheckBlockRange(block, count, what);
        bool journal = Sb.HasCompat(Ext4Features.COMPAT_HAS_JOURNAL) && inode.Number == Sb.s_journal_inum;
        var zone = journal ? MetadataZone : Zone;
        if (!zone.IsValid(block, count, inode.Number))
        {
            throw new Ext4CorruptionException(
                $"{what}: blocks {block}-{block + count - 1} overlap file-system metadata (system zone)");
        }
    }

    /// <summary>Reads a metadata block that <paramref name="inode"/> maps (extent/indirect/xattr block) after <see cref="CheckInodeBlocks"/>.</summary>
    internal byte[] ReadInodeMetadataBlock(Ext4Inode inode, ulong block, string what)
    {
        CheckInodeBlocks(inode, block, 1, what);
        return Cache.Get(block);
    }

    /// <summary>
    /// Per group: the superblock copy and descriptor blocks (plus the reserved GDT blocks,
    /// owned by the resize inode) where the group has a superblock, the meta_bg descriptor
    /// block of the first, second and last group of each meta group, both bitmaps and the
    /// inode table. Then, with <paramref name="includeJournal"/>, every block the internal
    /// journal inode maps, owned by it. Runs are clamped to s_blocks_count (Open checked the
    /// inode tables; bitmaps outside the volume are simply not zone). Overlapping owners are
    /// corruption, as in the kernel.
    /// </summary>
    private SystemZone BuildZone(bool includeJournal)
    {
        ulong total = Sb.s_blocks_count;
        ulong groupCount = (ulong)Groups.Length;
        ulong perBlock = BlockSize / (uint)DescriptorSize(Sb);
        ulong gdbCount = (groupCount + perBlock - 1) / perBlock;
        bool metaBg = Sb.HasIncompat(Ext4Features.INCOMPAT_META_BG);
        ulong oldStyleGdb = metaBg ? Math.Min(Sb.s_first_meta_bg, gdbCount) : gdbCount;
        ulong itbPerGroup = (((ulong)Sb.s_inodes_per_group * (uint)InodeSize) + BlockSize - 1) / BlockSize;
        ulong superblockBlock = SuperblockLayout.Offset / BlockSize; // 1 with 1 KiB blocks, else 0
        var runs = new List<(ulong, ulong, uint)>((int)Math.Min(groupCount * 4 + 8, 1 << 20));

        void Add(ulong start, ulong count, uint owner)
        {
            if (start < total)
            {
                runs.Add((start, Math.Min(count, total - start), owner));
            }
        }

        for (ulong g = 0; g < groupCount; g++)
        {
            ulong first = (g * Sb.s_blocks_per_group) + Sb.s_first_data_block;
            if (GroupHasSuper(Sb, g))
            {
                // Group 0 starts at s_first_data_block, but the primary superblock always lies at byte 1024.
                ulong sbBlock = g == 0 ? Math.Max(first, superblockBlock) : first;
                Add(first, sbBlock - first + 1 + oldStyleGdb, 0);
                if (!metaBg && Sb.HasCompat(Ext4Features.COMPAT_RESIZE_INODE))
                {
                    Add(sbBlock + 1 + oldStyleGdb, Sb.s_reserved_gdt_blocks, ResizeInode);
                }
            }

            ulong indexInMeta = g % perBlock;
            if (metaBg && g / perBlock >= Sb.s_first_meta_bg
                && (indexInMeta == 0 || indexInMeta == 1 || indexInMeta == perBlock - 1))
            {
                ulong at = first + (GroupHasSuper(Sb, g) ? 1u : 0u);
                if (BlockSize == 1024 && g == 0 && Sb.s_first_data_block == 0)
                {
                    at++;
                }

                Add(at, 1, 0);
            }

            var gd = Groups[g];
            Add(gd.bg_block_bitmap, 1, 0);
            Add(gd.bg_inode_bitmap, 1, 0);
            Add(gd.bg_inode_table, itbPerGroup, 0);
        }

        if (includeJournal && Sb.HasCompat(Ext4Features.COMPAT_HAS_JOURNAL) && Sb.s_journal_inum != 0)
        {
            AddJournalRuns(runs, total);
        }

        return SystemZone.Build(runs, out string? conflict)
            ?? throw new Ext4CorruptionException($"file-system metadata overlaps itself: {conflict}");
    }

    /// <summary>
    /// ext4_protect_reserved_inode for the journal: every mapped run of its i_size, owned by it.
    /// Each step advances at least one logical block and the journal may not be larger than
    /// the volume, so the walk is bounded by s_blocks_count.
    /// </summary>
    private void AddJournalRuns(List<(ulong, ulong, uint)> runs, ulong total)
    {
        uint ino = Sb.s_journal_inum;
        if (ino < 2 || ino > Sb.s_inodes_count)
        {
            throw new Ext4CorruptionException($"journal inode number {ino} is out of range");
        }

        var journal = Inodes.Read(ino);
        ulong blocks = ((ulong)journal.Size + BlockSize - 1) >> BlockSizeBits;
        if (blocks > total)
        {
            throw new Ext4CorruptionException($"journal inode {ino}: i_size {journal.Size} is larger than the file system");
        }

        if (journal.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL))
        {
            throw new Ext4CorruptionException($"journal inode {ino}: has inline data");
        }

        uint lblk = 0;
        while (lblk < blocks)
        {
            var run = FileData.Map(journal, lblk, (uint)(blocks - lblk));
            if (run.Kind == BlockRunKind.Mapped)
            {
                runs.Add((run.Physical, run.Length, ino));
            }

            lblk += run.Length;
        }
    }
}
