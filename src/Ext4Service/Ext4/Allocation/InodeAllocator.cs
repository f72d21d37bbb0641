using Safemount.Ext4.Format;

namespace Safemount.Ext4.Allocation;

/// <summary>
/// Inode allocator over the group inode bitmaps (kernel: ialloc.c). Uses the block
/// allocator's group locks (one lock per group guards both bitmaps and the group's counters;
/// lock order as in <see cref="BlockAllocator"/>: at most one group lock held, after the
/// inode locks and the handle).
/// </summary>
internal sealed class InodeAllocator
{
    private readonly Ext4Volume _v;
    private readonly BlockAllocator _blocks;
    private readonly bool _hasGroupCsum;

    public InodeAllocator(Ext4Volume volume, BlockAllocator blocks)
    {
        _v = volume;
        _blocks = blocks;
        _hasGroupCsum = volume.HasMetadataCsum || volume.Sb.HasRoCompat(Ext4Features.RO_COMPAT_GDT_CSUM);
    }

    /// <summary>
    /// Allocates an inode for a new file of <paramref name="mode"/> created in directory
    /// <paramref name="parent"/> and writes its zeroed record (i_mode set, a random
    /// i_generation, i_extra_isize = s_want_extra_isize as InodeRecord.New makes it) in
    /// <paramref name="tx"/>. The caller fills in the rest and writes it again. Group choice:
    /// a directory in the root is spread (find_group_orlov's top-level rule: a group with at
    /// least the average free inodes and blocks and the fewest directories, from a random
    /// start); another directory goes to its parent's group if that has free inodes and blocks,
    /// else the next such group; a non-directory goes to the first group from the start of the
    /// parent's flex group (or the parent's group without flex_bg) that has free inodes and
    /// blocks (find_group_other); failing all that, any group with a free inode. Never hands out
    /// an inode below s_first_ino. ENOSPC when no inode is free.
    /// </summary>
    public Ext4Errno Allocate(Ext4Transaction tx, uint parent, ushort mode, out InodeRecord record)
    {
        record = null!;
        bool isDir = (mode & InodeLayout.S_IFMT) == InodeLayout.S_IFDIR;
        var sb = _v.Sb;
        uint groups = (uint)_v.Groups.Length;
        uint parentGroup = parent >= 1 && parent <= sb.s_inodes_count ? (parent - 1) / sb.s_inodes_per_group : 0;
        foreach (uint g in Candidates(isDir, parent, parentGroup, groups))
        {
            if (TryAllocateInGroup(tx, g, isDir, out uint ino))
            {
                record = InodeRecord.New(_v, ino, mode, NewGeneration());
                _v.WriteInode(tx, record);
                return Ext4Errno.None;
            }
        }

        return Ext4Errno.ENOSPC;
    }

    /// <summary>
    /// Frees inode <paramref name="ino"/> in the bitmap and counters (the caller has already
    /// released its blocks and written its final record). Freeing a reserved inode or one
    /// that is not allocated is corruption.
    /// </summary>
    public void Free(Ext4Transaction tx, uint ino, bool isDirectory)
    {
        var sb = _v.Sb;
        if (ino < sb.s_first_ino || ino > sb.s_inodes_count)
        {
            throw new Ext4CorruptionException($"freeing reserved or out-of-range inode {ino}");
        }

        uint g = (ino - 1) / sb.s_inodes_per_group;
        int bit = (int)((ino - 1) % sb.s_inodes_per_group);
        lock (_blocks.GroupLock(g))
        {
            var c = _v.ReadGroupCounters(g);
            if (_hasGroupCsum && (c.Flags & GroupDescriptor.EXT4_BG_INODE_UNINIT) != 0)
            {
                throw new Ext4CorruptionException($"freeing inode {ino} in group {g}, whose inode bitmap is uninitialized");
            }

            byte[] bitmap = LoadBitmap(g, c, uninit: false);
            if (!Bitmap.Test(bitmap, bit))
            {
                throw new Ext4CorruptionException($"freeing inode {ino}: it is already free (double free)");
            }

            uint csum = 0;
            uint ipg = sb.s_inodes_per_group;
            uint seed = _v.CsumSeed;
            tx.Modify(_v.Groups[g].bg_inode_bitmap, $"group {g} inode bitmap", span =>
            {
                Bitmap.Clear(span, bit, 1);
                csum = BitmapChecksum.Inode(seed, span, ipg);
            });
            c.FreeInodes++;
            if (isDirectory)
            {
                if (c.UsedDirs == 0)
                {
                    throw new Ext4CorruptionException($"freeing directory inode {ino}: group {g} counts no directories");
                }

                c.UsedDirs--;
            }

            if (_v.HasMetadataCsum)
            {
                c.InodeBitmapCsum = csum;
            }

            _v.WriteGroupCounters(tx, g, in c);
            _v.AddFreeInodes(1);
        }
    }

    /// <summary>A random i_generation (the kernel uses get_random_u32 via s_next_generation's successor).</summary>
    public static uint NewGeneration() => (uint)Random.Shared.NextInt64(0, 1L << 32);

    /// <summary>
    /// Groups to try, best first (a heuristic read of the counters without group locks; the
    /// allocation itself rechecks under the lock). Counters are read lazily: only the Orlov
    /// case needs every group's (for the averages).
    /// </summary>
    private IEnumerable<uint> Candidates(bool isDir, uint parent, uint parentGroup, uint groups)
    {
        var counters = new Dictionary<uint, GroupCounters>();
        GroupCounters C(uint g)
        {
            if (!counters.TryGetValue(g, out var c))
            {
                counters[g] = c = _v.ReadGroupCounters(g);
            }

            return c;
        }

        bool Room(uint g) => C(g).FreeInodes > 0 && C(g).FreeBlocks > 0;
        if (isDir && parent == InodeLayout.EXT4_ROOT_INO)
        {
            ulong freeInodes = 0, freeBlocks = 0;
            for (uint g = 0; g < groups; g++)
            {
                freeInodes += C(g).FreeInodes;
                freeBlocks += C(g).FreeBlocks;
            }

            ulong avgInodes = freeInodes / groups;
            ulong avgBlocks = freeBlocks / groups;
            uint startAt = (uint)Random.Shared.Next((int)Math.Min(groups, int.MaxValue));
            uint best = uint.MaxValue;
            for (uint i = 0; i < groups; i++)
            {
                uint g = (startAt + i) % groups;
                var c = C(g);
                if (c.FreeInodes == 0 || c.FreeInodes < avgInodes || c.FreeBlocks < avgBlocks)
                {
                    continue;
                }

                if (best == uint.MaxValue || c.UsedDirs < C(best).UsedDirs)
                {
                    best = g;
                }
            }

            if (best != uint.MaxValue)
            {
                yield return best;
            }
        }

        uint start = parentGroup;
        int logFlex = _v.Sb.HasIncompat(Ext4Features.INCOMPAT_FLEX_BG) ? _v.Sb.s_log_groups_per_flex : 0;
        if (!isDir && logFlex > 0 && logFlex < 31)
        {
            start = parentGroup & ~((1u << logFlex) - 1);
        }

        for (uint i = 0; i < groups; i++)
        {
            uint g = (start + i) % groups;
            if (Room(g))
            {
                yield return g;
            }
        }

        for (uint i = 0; i < groups; i++)
        {
            uint g = (parentGroup + i) % groups;
            if (C(g).FreeInodes > 0 && !Room(g))
            {
                yield return g;
            }
        }
    }

    private bool TryAllocateInGroup(Ext4Transaction tx, uint g, bool isDir, out uint ino)
    {
        ino = 0;
        var sb = _v.Sb;
        uint ipg = sb.s_inodes_per_group;
        lock (_blocks.GroupLock(g))
        {
            var c = _v.ReadGroupCounters(g);
            if (c.FreeInodes == 0)
            {
                return false;
            }

            bool uninit = _hasGroupCsum && (c.Flags & GroupDescriptor.EXT4_BG_INODE_UNINIT) != 0;
            byte[] bitmap = LoadBitmap(g, c, uninit);
            // Inodes below s_first_ino are reserved, whichever groups they fall in.
            ulong groupFirst = ((ulong)g * ipg) + 1;
            int from = sb.s_first_ino > groupFirst ? (int)Math.Min(sb.s_first_ino - groupFirst, ipg) : 0;
            int bit = Bitmap.FindFirstZero(bitmap, from, (int)ipg);
            if (bit < 0)
            {
                if (from > 0)
                {
                    return false; // only reserved inodes are free here (possible only in the first groups)
                }

                throw new Ext4CorruptionException($"group {g}: the inode bitmap is full but bg_free_inodes_count is {c.FreeInodes}");
            }

            uint csum = 0;
            uint seed = _v.CsumSeed;
            BlockEdit edit = span =>
            {
                if (uninit)
                {
                    bitmap.CopyTo(span);
                }

                Bitmap.Set(span, bit, 1);
                csum = BitmapChecksum.Inode(seed, span, ipg);
            };
            ulong bitmapBlock = _v.Groups[g].bg_inode_bitmap;
            if (uninit)
            {
                tx.Create(bitmapBlock, $"group {g} inode bitmap (initialized)", edit);
            }
            else
            {
                tx.Modify(bitmapBlock, $"group {g} inode bitmap", edit);
            }

            c.FreeInodes--;
            if (isDir)
            {
                c.UsedDirs++;
            }

            c.Flags &= unchecked((ushort)~GroupDescriptor.EXT4_BG_INODE_UNINIT);
            if (_hasGroupCsum)
            {
                // ItableUnused counts the never-used inodes at the end of the table (ext4_new_inode).
                uint used = ipg - Math.Min(c.ItableUnused, ipg);
                if ((uint)bit + 1 > used)
                {
                    c.ItableUnused = ipg - ((uint)bit + 1);
                }
            }

            if (_v.HasMetadataCsum)
            {
                c.InodeBitmapCsum = csum;
            }

            _v.WriteGroupCounters(tx, g, in c);
            _v.AddFreeInodes(-1);
            ino = (uint)groupFirst + (uint)bit;
            return true;
        }
    }

    /// <summary>The current inode bitmap of group <paramref name="g"/> (caller holds its lock), computed when uninitialized (ext4_read_inode_bitmap).</summary>
    private byte[] LoadBitmap(uint g, in GroupCounters c, bool uninit)
    {
        if (uninit)
        {
            var computed = new byte[_v.BlockSize];
            BlockGroupInit.BuildInodeBitmap(_v.Sb, computed);
            if (c.FreeInodes != _v.Sb.s_inodes_per_group)
            {
                throw new Ext4CorruptionException(
                    $"group {g}: inode bitmap uninitialized but bg_free_inodes_count is {c.FreeInodes} of {_v.Sb.s_inodes_per_group}");
            }

            return computed;
        }

        byte[] bitmap = _v.ReadMetadataBlock(_v.Groups[g].bg_inode_bitmap, $"group {g} inode bitmap");
        if (_v.HasMetadataCsum)
        {
            BitmapChecksum.Verify(g, "inode bitmap", BitmapChecksum.Inode(_v.CsumSeed, bitmap, _v.Sb.s_inodes_per_group),
                c.InodeBitmapCsum, Ext4Volume.DescriptorSize(_v.Sb), BitmapChecksum.InodeBitmapCsumHiEnd);
        }

        return bitmap;
    }
}
