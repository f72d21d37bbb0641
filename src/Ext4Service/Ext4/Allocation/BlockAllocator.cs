using Safemount.Ext4.Format;

namespace Safemount.Ext4.Allocation;

/// <summary>
/// Block allocator over the group block bitmaps (kernel: balloc.c, and mballoc.c reduced to
/// its goal and group-scan policy). Non-bigalloc: one bit per block.
/// <para>
/// Lock order (RWCORE.txt level 3): a group's lock is taken after the inode locks and the
/// transaction handle, and this class holds at most one group lock at a time, so the
/// "ascending group number" rule holds trivially. Under a group's lock the bitmap block, the
/// group counters and the superblock totals change together in the caller's handle; the
/// bitmap block is only ever modified under that lock, so the version read under it is the
/// one the edit applies to. Tx.Modify's stripe lock (level 4) is taken inside.
/// </para>
/// </summary>
internal sealed class BlockAllocator
{
    /// <summary>Group locks are striped: group g uses _locks[g % length]. A stripe guards all its groups.</summary>
    private const int MaxLockStripes = 1024;

    /// <summary>
    /// Pass 1 gives up on a full-length run after reading this many bitmaps of groups that had
    /// enough free blocks in total (mballoc bounds its scans through its buddy cache; here the
    /// bound keeps one allocation from reading every bitmap of a large fragmented volume).
    /// </summary>
    private const int MaxFullRunScans = 32;

    private readonly Ext4Volume _v;
    private readonly object[] _locks;
    private readonly bool _hasGroupCsum;

    public BlockAllocator(Ext4Volume volume)
    {
        _v = volume;
        _locks = new object[Math.Min(volume.Groups.Length, MaxLockStripes)];
        for (int i = 0; i < _locks.Length; i++)
        {
            _locks[i] = new object();
        }

        _hasGroupCsum = volume.HasMetadataCsum || volume.Sb.HasRoCompat(Ext4Features.RO_COMPAT_GDT_CSUM);
    }

    /// <summary>The lock of <paramref name="group"/> (shared with the inode allocator: one lock per group for both bitmaps).</summary>
    internal object GroupLock(uint group) => _locks[group % (uint)_locks.Length];

    /// <summary>s_resv_clusters (ext4_calculate_resv_clusters): min(2 % of the clusters, 4096) with extents, else 0.</summary>
    public ulong MetadataReserve =>
        _v.Sb.HasIncompat(Ext4Features.INCOMPAT_EXTENTS) ? Math.Min(_v.Sb.s_blocks_count / 50, 4096) : 0;

    /// <summary>
    /// Allocates a run of 1..<paramref name="wanted"/> contiguous blocks near
    /// <paramref name="goal"/> (0: no goal, start at group 0). Policy, a reduced
    /// ext4_mb_regular_allocator: the request is first cut to what the free count and the
    /// caller's reserve rights allow (ext4_mb_new_blocks halves until ext4_claim_free_clusters
    /// succeeds; here cut exactly); then pass 1 scans the groups from the goal's group and takes
    /// the goal block's free run in its own group or else a run of the full length; pass 2
    /// takes the longest run of the first group with any free block. A request is at most one
    /// group long. Returns ENOSPC when nothing can be had.
    /// </summary>
    public Ext4Errno Allocate(Ext4Transaction tx, ulong goal, uint wanted, AllocationRights rights, out ulong start, out uint count)
    {
        start = 0;
        count = 0;
        ArgumentOutOfRangeException.ThrowIfZero(wanted);
        long free = _v.FreeClustersCount;
        long reserve = rights switch
        {
            AllocationRights.User => (long)(_v.Sb.s_r_blocks_count + MetadataReserve),
            AllocationRights.Privileged => (long)MetadataReserve,
            _ => 0,
        };
        long allowed = free - reserve;
        if (allowed <= 0)
        {
            return Ext4Errno.ENOSPC;
        }

        // One run never spans groups; a request larger than a group is served a group at a time.
        wanted = (uint)Math.Min(Math.Min(wanted, allowed), _v.Sb.s_blocks_per_group);
        var sb = _v.Sb;
        uint groups = (uint)_v.Groups.Length;
        uint goalGroup = 0;
        int goalBit = 0;
        if (goal >= sb.s_first_data_block && goal < sb.s_blocks_count)
        {
            goalGroup = (uint)((goal - sb.s_first_data_block) / sb.s_blocks_per_group);
            goalBit = (int)((goal - sb.s_first_data_block) % sb.s_blocks_per_group);
        }

        for (int pass = 1; pass <= 2; pass++)
        {
            int examined = 0;
            for (uint i = 0; i < groups; i++)
            {
                uint g = (goalGroup + i) % groups;
                int bit = g == goalGroup ? goalBit : 0;
                if (TryAllocateInGroup(tx, g, bit, wanted, fullOnly: pass == 1, mayTakeGoalRun: pass == 1 && g == goalGroup, out start, out count, out bool looked))
                {
                    return Ext4Errno.None;
                }

                if (pass == 1 && looked && ++examined >= MaxFullRunScans)
                {
                    break;
                }
            }
        }

        return Ext4Errno.ENOSPC;
    }

    /// <summary>
    /// Frees blocks [start, start+count), which may span groups (ext4_free_blocks). Freeing a
    /// block that is not allocated, lies in an uninitialized group, or belongs to the system
    /// zone is corruption (the kernel's "bit already cleared" error).
    /// </summary>
    public void Free(Ext4Transaction tx, ulong start, uint count)
    {
        if (count == 0)
        {
            return;
        }

        _v.CheckBlockRange(start, count, "block free");
        if (!_v.Zone.IsValid(start, count, 0))
        {
            throw new Ext4CorruptionException($"freeing blocks {start}-{start + count - 1}: they belong to file-system metadata");
        }

        var sb = _v.Sb;
        ulong end = start + count;
        while (start < end)
        {
            uint g = (uint)((start - sb.s_first_data_block) / sb.s_blocks_per_group);
            var (first, inGroup) = BlockGroupInit.GroupSpan(sb, g);
            int bit = (int)(start - first);
            int n = (int)Math.Min(end - start, inGroup - (ulong)bit);
            FreeInGroup(tx, g, bit, n);
            start += (ulong)n;
        }
    }

    private bool TryAllocateInGroup(Ext4Transaction tx, uint g, int goalBit, uint wanted, bool fullOnly, bool mayTakeGoalRun,
        out ulong start, out uint count, out bool looked)
    {
        start = 0;
        count = 0;
        looked = false;
        var (first, inGroup) = BlockGroupInit.GroupSpan(_v.Sb, g);
        lock (GroupLock(g))
        {
            var c = _v.ReadGroupCounters(g);
            if (c.FreeBlocks == 0 || (fullOnly && c.FreeBlocks < wanted && !mayTakeGoalRun))
            {
                return false;
            }

            bool uninit = _hasGroupCsum && (c.Flags & GroupDescriptor.EXT4_BG_BLOCK_UNINIT) != 0;
            byte[] bitmap = LoadBitmap(g, c, uninit);
            looked = true;

            // Blocks freed by a transaction that is not durable yet are searched as in use (FreedBlocks).
            byte[] search = bitmap;
            bool masked = false;
            if (!uninit && _v.Freed is { } freed && freed.InGroup(g))
            {
                search = (byte[])bitmap.Clone();
                masked = freed.Mask(g, search);
            }

            var (s, n) = Bitmap.FindFreeRun(search, goalBit, (int)inGroup, (int)wanted);
            if (s < 0)
            {
                if (masked)
                {
                    return false;
                }

                throw new Ext4CorruptionException(
                    $"group {g}: the block bitmap has no free block but bg_free_blocks_count is {c.FreeBlocks}");
            }

            if (fullOnly && n < wanted && !(mayTakeGoalRun && s == goalBit))
            {
                return false;
            }

            ulong phys = first + (ulong)s;
            if (!_v.Zone.IsValid(phys, (ulong)n, 0) || (uint)n > c.FreeBlocks)
            {
                throw new Ext4CorruptionException(
                    $"group {g}: the block bitmap marks blocks {phys}-{phys + (ulong)n - 1} free, but they are file-system metadata or beyond bg_free_blocks_count {c.FreeBlocks}");
            }

            uint csum = 0;
            uint cpg = _v.Sb.s_clusters_per_group;
            uint seed = _v.CsumSeed;
            BlockEdit edit = span =>
            {
                if (uninit)
                {
                    bitmap.CopyTo(span);
                }

                Bitmap.Set(span, s, n);
                csum = BitmapChecksum.Block(seed, span, cpg);
            };
            ulong bitmapBlock = _v.Groups[g].bg_block_bitmap;
            if (uninit)
            {
                tx.Create(bitmapBlock, $"group {g} block bitmap (initialized)", edit);
            }
            else
            {
                tx.Modify(bitmapBlock, $"group {g} block bitmap", edit);
            }

            c.FreeBlocks -= (uint)n;
            c.Flags &= unchecked((ushort)~GroupDescriptor.EXT4_BG_BLOCK_UNINIT);
            if (_v.HasMetadataCsum)
            {
                c.BlockBitmapCsum = csum;
            }

            _v.WriteGroupCounters(tx, g, in c);
            _v.AddFreeBlocks(-n);
            start = phys;
            count = (uint)n;
            return true;
        }
    }

    private void FreeInGroup(Ext4Transaction tx, uint g, int bit, int n)
    {
        lock (GroupLock(g))
        {
            var c = _v.ReadGroupCounters(g);
            var (first, _) = BlockGroupInit.GroupSpan(_v.Sb, g);
            if (_hasGroupCsum && (c.Flags & GroupDescriptor.EXT4_BG_BLOCK_UNINIT) != 0)
            {
                throw new Ext4CorruptionException($"freeing blocks {first + (ulong)bit}+{n} in group {g}, whose block bitmap is uninitialized");
            }

            byte[] bitmap = LoadBitmap(g, c, uninit: false);
            if (!Bitmap.AllSet(bitmap, bit, n))
            {
                throw new Ext4CorruptionException($"freeing blocks {first + (ulong)bit}+{n} in group {g}: some are already free (double free)");
            }

            uint csum = 0;
            uint cpg = _v.Sb.s_clusters_per_group;
            uint seed = _v.CsumSeed;
            tx.Modify(_v.Groups[g].bg_block_bitmap, $"group {g} block bitmap", span =>
            {
                Bitmap.Clear(span, bit, n);
                csum = BitmapChecksum.Block(seed, span, cpg);
            });
            if (_v.Freed is { } freed)
            {
                freed.Add(g, bit, n);
            }
            else
            {
                // No journal: the blocks are allocatable as soon as the group lock is released.
                _v.BlocksReusable?.Invoke(first + (ulong)bit, (ulong)n);
            }

            c.FreeBlocks += (uint)n;
            if (_v.HasMetadataCsum)
            {
                c.BlockBitmapCsum = csum;
            }

            _v.WriteGroupCounters(tx, g, in c);
            _v.AddFreeBlocks(n);
        }
    }

    /// <summary>
    /// The current block bitmap of group <paramref name="g"/> (caller holds its lock): computed
    /// for an uninitialized group (a fresh array whose free count must match the descriptor),
    /// else the cached block, checksum-verified with metadata_csum (ext4_validate_block_bitmap).
    /// </summary>
    private byte[] LoadBitmap(uint g, in GroupCounters c, bool uninit)
    {
        if (uninit)
        {
            var computed = new byte[_v.BlockSize];
            uint free = BlockGroupInit.BuildBlockBitmap(_v.Sb, _v.MetadataZone, g, computed);
            if (free != c.FreeBlocks)
            {
                throw new Ext4CorruptionException(
                    $"group {g}: uninitialized block bitmap would have {free} free blocks, bg_free_blocks_count says {c.FreeBlocks}");
            }

            return computed;
        }

        byte[] bitmap = _v.ReadMetadataBlock(_v.Groups[g].bg_block_bitmap, $"group {g} block bitmap");
        if (_v.HasMetadataCsum)
        {
            BitmapChecksum.Verify(g, "block bitmap", BitmapChecksum.Block(_v.CsumSeed, bitmap, _v.Sb.s_clusters_per_group),
                c.BlockBitmapCsum, Ext4Volume.DescriptorSize(_v.Sb), BitmapChecksum.BlockBitmapCsumHiEnd);
        }

        return bitmap;
    }
}
