using Safemount.Ext4.Format;

namespace Safemount.Ext4;

public sealed partial class Ext4Volume
{
    /// <summary>Overhead in clusters, computed on first use (thread-safe; reads the journal inode).</summary>
    private Lazy<ulong> Overhead => _overheadLazy ??= new Lazy<ulong>(ComputeOverhead, LazyThreadSafetyMode.ExecutionAndPublication);

    private Lazy<ulong>? _overheadLazy; // a reference: publishing it is atomic; two racing creators compute the same value

    /// <summary>
    /// statfs as ext4_statfs computes it: f_blocks = s_blocks_count - overhead; f_bfree = the free-cluster
    /// counter (the sum of the groups' free counts at open); f_bavail = f_bfree - (s_r_blocks_count + the reserved pool of
    /// min(2 %, 4096) clusters that extent file systems keep); f_files = s_inodes_count;
    /// f_ffree = the free-inode counter; namelen 255.
    /// </summary>
    public Ext4StatFs StatFs()
    {
        ulong free = (ulong)Math.Max(0, FreeClustersCount);
        ulong freeInodes = (ulong)Math.Max(0, FreeInodesCount);

        ulong clusterRatio = 1UL << (int)Math.Min(Sb.s_log_cluster_size - Math.Min(Sb.s_log_cluster_size, Sb.s_log_block_size), 30);
        if (!Sb.HasRoCompat(Ext4Features.RO_COMPAT_BIGALLOC))
        {
            clusterRatio = 1;
        }

        free *= clusterRatio;
        ulong overhead = Overhead.Value * clusterRatio;
        ulong blocks = Sb.s_blocks_count > overhead ? Sb.s_blocks_count - overhead : 0;
        ulong resv = Sb.HasIncompat(Ext4Features.INCOMPAT_EXTENTS)
            ? Math.Min((Sb.s_blocks_count / clusterRatio) / 50, 4096) * clusterRatio
            : 0;
        ulong reserved = Sb.s_r_blocks_count + resv;
        ulong avail = free > reserved ? free - reserved : 0;
        return new Ext4StatFs(blocks, free, avail, Sb.s_inodes_count, freeInodes, BlockSize, Format.DirEntryLayout.EXT4_NAME_LEN);
    }

    /// <summary>
    /// ext4_calculate_overhead (in clusters): s_overhead_clusters when set and plausible, else
    /// s_first_data_block + per group (superblock copy + descriptor blocks + reserved GDT
    /// blocks where there is a superblock copy + inode table + 2 bitmaps) + the internal journal's blocks.
    /// </summary>
    private ulong ComputeOverhead()
    {
        if (Sb.s_overhead_clusters != 0 && Sb.s_overhead_clusters < Sb.s_blocks_count)
        {
            return Sb.s_overhead_clusters;
        }

        ulong groupCount = (ulong)Groups.Length;
        ulong perBlock = BlockSize / (uint)DescriptorSize(Sb);
        ulong gdbCount = (groupCount + perBlock - 1) / perBlock;
        ulong itbPerGroup = (((ulong)Sb.s_inodes_per_group * (uint)InodeSize) + BlockSize - 1) / BlockSize;
        bool metaBg = Sb.HasIncompat(Ext4Features.INCOMPAT_META_BG);
        ulong overhead = Sb.s_first_data_block;
        for (ulong g = 0; g < groupCount; g++)
        {
            bool hasSuper = GroupHasSuper(Sb, g);
            ulong gdb;
            ulong metagroup = g / perBlock;
            if (!metaBg || metagroup < Sb.s_first_meta_bg)
            {
                gdb = !hasSuper ? 0 : metaBg ? Sb.s_first_meta_bg : gdbCount;
            }
            else
            {
                ulong first = metagroup * perBlock;
                gdb = g == first || g == first + 1 || g == first + perBlock - 1 ? 1UL : 0UL;
            }

            overhead += (hasSuper ? 1UL + Sb.s_reserved_gdt_blocks : 0UL) + gdb + itbPerGroup + 2;
        }

        if (Sb.HasCompat(Ext4Features.COMPAT_HAS_JOURNAL) && Sb.s_journal_inum != 0)
        {
            try
            {
                var journal = ReadInode(Sb.s_journal_inum);
                overhead += (ulong)journal.Size >> BlockSizeBits;
            }
            catch (Ext4CorruptionException)
            {
                // The kernel logs "can't get journal size" and goes on without it.
            }
        }

        return overhead;
    }
}
