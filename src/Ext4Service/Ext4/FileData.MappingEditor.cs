using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;

namespace Safemount.Ext4;

internal sealed partial class FileData
{
    /// <summary>
    /// An edit session over one inode's block mapping (extent tree or indirect block map),
    /// living for one operation under the inode's exclusive lock and one handle. Data blocks
    /// are allocated by the caller and handed to <see cref="MapNew"/>; blocks the mapping
    /// itself needs (tree or indirect blocks) are allocated and freed here. Every change to
    /// i_blocks is summed in <see cref="BlocksDelta"/> (file-system blocks) for the caller to
    /// apply to the record; <see cref="Commit"/> stores what is still only in memory (the
    /// extent tree) and writes the root into the record's i_block.
    /// </summary>
    internal abstract class MappingEditor
    {
        protected MappingEditor(Ext4Volume volume, InodeRecord record)
        {
            V = volume;
            Record = record;
        }

        protected Ext4Volume V { get; }

        /// <summary>The inode whose mapping this edits.</summary>
        internal InodeRecord Record { get; }

        /// <summary>File-system blocks added to (negative: removed from) the inode's i_blocks so far.</summary>
        public long BlocksDelta { get; protected set; }

        /// <summary>Whether unwritten (preallocated) mappings exist in this format: extents only.</summary>
        public abstract bool SupportsUnwritten { get; }

        /// <summary>Exclusive upper bound of mappable logical blocks.</summary>
        public abstract ulong LogicalLimit { get; }

        /// <summary>The run at <paramref name="lblk"/>, 1..<paramref name="maxBlocks"/> long, as the read path reports it.</summary>
        public abstract BlockRun Map(uint lblk, uint maxBlocks);

        /// <summary>
        /// Maps the hole [lblk, lblk+count) to data blocks [physical, physical+count), already
        /// allocated by the caller and counted here. Returns how many leading blocks were
        /// mapped in <paramref name="mapped"/>; fewer than count only with ENOSPC (a block map
        /// could not get an indirect block), and then the caller frees the rest.
        /// </summary>
        public abstract Ext4Errno MapNew(Ext4Transaction tx, uint lblk, uint count, ulong physical, bool unwritten, out uint mapped);

        /// <summary>Unmaps [start, start+count) (clamped to the logical limit) and frees its data blocks and emptied mapping blocks.</summary>
        public abstract Ext4Errno Remove(Ext4Transaction tx, uint start, ulong count);

        /// <summary>Sets the written state of the mapped blocks of a range (extents only); the pieces that changed are appended to <paramref name="changed"/>.</summary>
        public abstract void SetUnwritten(uint start, ulong count, bool unwritten, List<ExtentTree.Extent> changed);

        /// <summary>Stores pending changes; ENOSPC when a tree block could not be had (nothing is then stored and pending frees are kept).</summary>
        public abstract Ext4Errno Commit(Ext4Transaction tx);

        /// <summary>
        /// Allocation goal for logical block <paramref name="lblk"/> (ext4_ext_find_goal /
        /// ext4_find_goal): the block after the previous logical block's mapping, else
        /// <see cref="InodeGoal"/>.
        /// </summary>
        public virtual ulong Goal(uint lblk)
        {
            if (lblk > 0)
            {
                var prev = Map(lblk - 1, 1);
                if (prev.Kind != BlockRunKind.Hole && prev.Physical + 1 < V.Sb.s_blocks_count)
                {
                    return prev.Physical + 1;
                }
            }

            return InodeGoal(V, Record.Number, Record.Mode);
        }

        /// <summary>
        /// Frees data blocks through the volume's allocator and takes them out of i_blocks. Each
        /// is forgotten by the cache first: a directory's or slow symlink's data blocks are
        /// metadata and may hold a dirty version that a later Sync would write over whatever the
        /// block is reallocated to (the kernel's bforget on freed metadata).
        /// </summary>
        protected void FreeData(Ext4Transaction tx, ulong start, uint count)
        {
            for (uint i = 0; i < count; i++)
            {
                tx.Forget(start + i);
            }

            V.BlockAllocator.Free(tx, start, count);
            BlocksDelta -= count;
        }
    }

    /// <summary>
    /// Tells <see cref="Ext4Volume.FileMappingChanging"/> (regular files only: only they have a
    /// kernel-side mapping cache) that logical blocks [first, first + count) of the inode
    /// <paramref name="ed"/> edits are about to be unmapped or change written state; callers
    /// call it before the editor applies the change.
    /// </summary>
    private void MappingChanging(MappingEditor ed, ulong first, ulong count)
    {
        InodeRecord r = ed.Record;
        if ((r.Mode & InodeLayout.S_IFMT) == InodeLayout.S_IFREG)
        {
            _v.FileMappingChanging?.Invoke(r.Number, first, count);
        }
    }

    /// <summary>
    /// ext4_inode_to_goal_block: the first block of the inode's group; with flex_bg groups of
    /// at least 4 (EXT4_FLEX_SIZE_DIR_ALLOC_SCHEME), the first group of its flex group, and for
    /// regular files the group after that (the first is kept for directories), as with delalloc.
    /// </summary>
    internal static ulong InodeGoal(Ext4Volume v, uint ino, ushort mode)
    {
        var sb = v.Sb;
        ulong group = ino >= 1 ? (ino - 1) / sb.s_inodes_per_group : 0;
        int logFlex = sb.HasIncompat(Ext4Features.INCOMPAT_FLEX_BG) ? sb.s_log_groups_per_flex : 0;
        if (logFlex >= 2 && logFlex < 31)
        {
            group &= ~((1UL << logFlex) - 1);
            if ((mode & InodeLayout.S_IFMT) == InodeLayout.S_IFREG)
            {
                group++;
            }
        }

        if (group >= (ulong)v.Groups.Length)
        {
            group = 0;
        }

        return (group * sb.s_blocks_per_group) + sb.s_first_data_block;
    }
}
