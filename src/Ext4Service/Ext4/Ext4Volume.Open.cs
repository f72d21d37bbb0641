using System.Buffers.Binary;
using Safemount.Ext4.Format;
using Safemount.Ext4.Journal;
using Safemount.Ext4.Storage;

namespace Safemount.Ext4;

public sealed partial class Ext4Volume
{
    /// <summary>Upper bound on block groups (2^32 blocks / 8 blocks per group is far beyond any real volume; this caps the descriptor array).</summary>
    internal const uint MaxGroups = 1u << 24;

    /// <summary>Largest cluster/block ratio exponent the kernel accepts with bigalloc (clusters up to 2^16 blocks... and 1 GiB).</summary>
    internal const uint MaxLogClusterRatio = 16;

    /// <summary>
    /// Opens the file system on <paramref name="device"/>.
    /// Order: magic, superblock checksum (metadata_csum), feature gate (unknown INCOMPAT
    /// refuses, unknown RO_COMPAT forces read-only), geometry sanity, device size, group
    /// descriptors with their checksums; then, with needs_recovery, journal replay (onto the
    /// device when opened read-write on an <see cref="IWritableBlockDevice"/> that can write,
    /// else into a memory overlay, and the volume is read-only) and the whole sequence again on the replayed state, since the journal
    /// usually holds the superblock and group descriptors.
    /// Throws <see cref="Ext4MountException"/> with a one-line message when the volume cannot
    /// be used; a corrupt journal may also throw <see cref="Ext4CorruptionException"/>.
    /// </summary>
    public static Ext4Volume Open(IBlockDevice device, Ext4OpenOptions options) => Open(device, options, replayed: false);

    private static Ext4Volume Open(IBlockDevice device, Ext4OpenOptions options, bool replayed)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);

        if (device.Length < SuperblockLayout.Offset + SuperblockLayout.Size)
        {
            throw new Ext4MountException(
                $"not an ext2/ext3/ext4 filesystem: the device is only {device.Length} bytes");
        }

        var raw = new byte[SuperblockLayout.Size];
        try
        {
            device.Read(SuperblockLayout.Offset, raw);
        }
        catch (Ext4IOException e)
        {
            throw new Ext4MountException($"cannot read the superblock: {e.Message}", e);
        }

        var sb = new Superblock(raw);
        if (sb.s_magic != SuperblockLayout.EXT4_SUPER_MAGIC)
        {
            throw new Ext4MountException("not an ext2/ext3/ext4 filesystem (bad superblock magic)");
        }

        // The checksum first (as the kernel does): a corrupt superblock must not be judged by its feature fields.
        if (sb.HasRoCompat(Ext4Features.RO_COMPAT_METADATA_CSUM))
        {
            if (sb.s_checksum_type != SuperblockLayout.EXT4_CRC32C_CHKSUM)
            {
                throw new Ext4MountException($"unknown metadata checksum type {sb.s_checksum_type}");
            }

            uint computed = Crc32c.Append(~0u, raw.AsSpan(0, SuperblockLayout.s_checksum));
            if (computed != sb.s_checksum)
            {
                throw new Ext4MountException(
                    $"superblock checksum mismatch (stored 0x{sb.s_checksum:x8}, computed 0x{computed:x8})");
            }
        }

        var warnings = new List<string>();
        bool readOnly = options.ReadOnly;

        // Feature gate before geometry: a volume with unknown features may carry fields we cannot judge.
        if (sb.s_rev_level > 0)
        {
            uint unsupported = sb.s_feature_incompat & ~Ext4Features.SupportedIncompat & ~Ext4Features.INCOMPAT_RECOVER;
            if (unsupported != 0)
            {
                throw new Ext4MountException($"unsupported ext4 feature: {Ext4Features.IncompatNames(unsupported)}");
            }

            if (replayed && sb.HasIncompat(Ext4Features.INCOMPAT_RECOVER))
            {
                throw new Ext4MountException("journal replay left needs_recovery set");
            }

            uint unsupportedRo = sb.s_feature_ro_compat & ~Ext4Features.SupportedRoCompat;
            uint unknownRo = unsupportedRo & ~Ext4Features.KnownRoCompat;
            uint knownRo = unsupportedRo & Ext4Features.KnownRoCompat;
            if (unknownRo != 0)
            {
                readOnly = true;
                warnings.Add($"unknown ro_compat feature {Ext4Features.RoCompatNames(unknownRo)}, mounted read-only");
            }

            if (knownRo != 0)
            {
                readOnly = true;
                warnings.Add($"unsupported ro_compat feature {Ext4Features.RoCompatNames(knownRo)}, mounted read-only");
            }
        }

        if (!readOnly && device is not IWritableBlockDevice { CanWrite: true })
        {
            readOnly = true;
            warnings.Add("the device is write-protected, mounted read-only");
        }

        ValidateGeometry(sb);

        uint blockSize = 1024u << (int)sb.s_log_block_size;
        ulong fsBytes = sb.s_blocks_count * blockSize;
        if (sb.s_blocks_count > (ulong)long.MaxValue / blockSize || (long)fsBytes > device.Length)
        {
            throw new Ext4MountException(
                $"filesystem is truncated: it needs {fsBytes} bytes ({sb.s_blocks_count} blocks of {blockSize}) but the device has only {device.Length} bytes");
        }

        var groups = ReadGroupDescriptors(device, sb, blockSize);
        long cacheBytes = Math.Max(options.CacheBytes, 0);
        if (sb.s_rev_level > 0 && sb.HasIncompat(Ext4Features.INCOMPAT_RECOVER) && !options.ReplayJournal)
        {
            if (!options.ReadOnly)
            {
                throw new Ext4MountException("the journal needs recovery: a read-write open must replay it (noload needs read-only)");
            }

            warnings.Add("journal not replayed (noload): committed transactions are missing and the file system may be inconsistent");
        }
        else if (sb.s_rev_level > 0 && sb.HasIncompat(Ext4Features.INCOMPAT_RECOVER))
        {
            // The pre-replay volume only locates the journal inode (the journal never logs it).
            var pre = new Ext4Volume(device, sb, groups, readOnly: true, [], 0);
            var target = !readOnly && device is IWritableBlockDevice { CanWrite: true } writable ? writable : null;
            var journalWarnings = new List<string>();
            var replayedDevice = JournalReplay.Recover(pre, target, journalWarnings);
            var reopenOptions = target is null ? new Ext4OpenOptions { ReadOnly = true, CacheBytes = options.CacheBytes } : options;
            var volume = Open(replayedDevice, reopenOptions, replayed: true);
            volume._warnings.InsertRange(0, journalWarnings);
            return volume;
        }

        if (!readOnly && sb.s_rev_level > 0 && Ext4Features.NotWritable(sb) is { Length: > 0 } notWritable)
        {
            readOnly = true;
            warnings.Add($"writing is not supported with feature {notWritable} yet, mounted read-only");
        }

        bool journaled = sb.HasCompat(Ext4Features.COMPAT_HAS_JOURNAL);
        if (!readOnly && journaled && sb.s_journal_inum == 0)
        {
            readOnly = true;
            warnings.Add("the journal is external (journal_dev), which is not supported for writing; mounted read-only");
        }

        var opened = new Ext4Volume(device, sb, groups, readOnly, warnings, cacheBytes)
        {
            ErrorBehavior = options.Errors ?? ErrorBehaviorOf(raw),
            CommitInterval = options.CommitInterval > TimeSpan.Zero ? options.CommitInterval : Ext4OpenOptions.DefaultCommitInterval,
        };
        if (!readOnly && journaled)
        {
            opened.AttachJournal();
        }

        return opened;
    }

    /// <summary>Number of block groups: ceil((s_blocks_count - s_first_data_block) / s_blocks_per_group).</summary>
    internal static ulong GroupCount(Superblock sb) =>
        ((sb.s_blocks_count - sb.s_first_data_block) + sb.s_blocks_per_group - 1) / sb.s_blocks_per_group;

    /// <summary>Group descriptor size: 32, or s_desc_size with the 64bit feature.</summary>
    internal static int DescriptorSize(Superblock sb) =>
        sb.HasIncompat(Ext4Features.INCOMPAT_64BIT) ? sb.s_desc_size : GroupDescriptor.Size32;

    private static void ValidateGeometry(Superblock sb)
    {
        if (sb.s_log_block_size > SuperblockLayout.MaxLogBlockSize)
        {
            throw new Ext4MountException($"invalid block size (s_log_block_size {sb.s_log_block_size})");
        }

        uint blockSize = 1024u << (int)sb.s_log_block_size;
        int inodeSize = sb.s_rev_level == 0 ? InodeLayout.GoodOldInodeSize : sb.s_inode_size;
        if (inodeSize < InodeLayout.GoodOldInodeSize || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) != 0)
        {
            throw new Ext4MountException($"invalid inode size {inodeSize}");
        }

        if (sb.HasRoCompat(Ext4Features.RO_COMPAT_BIGALLOC))
        {
            // Bitmaps count clusters: s_clusters_per_group bits per group, s_blocks_per_group = clusters * ratio.
            if (sb.s_log_cluster_size < sb.s_log_block_size || sb.s_log_cluster_size - sb.s_log_block_size > MaxLogClusterRatio)
            {
                throw new Ext4MountException($"invalid cluster size (s_log_cluster_size {sb.s_log_cluster_size})");
            }

            int ratioBits = (int)(sb.s_log_cluster_size - sb.s_log_block_size);
            if (sb.s_clusters_per_group == 0 || sb.s_clusters_per_group > blockSize * 8
                || (ulong)sb.s_blocks_per_group != (ulong)sb.s_clusters_per_group << ratioBits)
            {
                throw new Ext4MountException(
                    $"invalid clusters per group {sb.s_clusters_per_group} (blocks per group {sb.s_blocks_per_group})");
            }
        }
        else if (sb.s_blocks_per_group < 8 || sb.s_blocks_per_group > blockSize * 8)
        {
            throw new Ext4MountException($"invalid blocks per group {sb.s_blocks_per_group}");
        }

        if (sb.s_inodes_per_group == 0 || sb.s_inodes_per_group > blockSize * 8)
        {
            throw new Ext4MountException($"invalid inodes per group {sb.s_inodes_per_group}");
        }

        if (sb.s_rev_level > 0 && sb.s_first_ino < Directories.GoodOldFirstIno)
        {
            throw new Ext4MountException($"invalid first inode {sb.s_first_ino}");
        }

        if (sb.s_first_data_block > 1 || sb.s_first_data_block >= sb.s_blocks_count)
        {
            throw new Ext4MountException($"invalid first data block {sb.s_first_data_block}");
        }

        ulong groups = GroupCount(sb);
        if (groups == 0 || groups > MaxGroups)
        {
            throw new Ext4MountException($"invalid block group count {groups}");
        }

        if ((ulong)sb.s_inodes_count != groups * sb.s_inodes_per_group)
        {
            throw new Ext4MountException(
                $"inode count {sb.s_inodes_count} does not match {groups} groups of {sb.s_inodes_per_group} inodes");
        }

        if (sb.HasIncompat(Ext4Features.INCOMPAT_64BIT))
        {
            int ds = sb.s_desc_size;
            if (ds < GroupDescriptor.MinSize64 || ds > GroupDescriptor.MaxSize || (ds & (ds - 1)) != 0)
            {
                throw new Ext4MountException($"invalid group descriptor size {ds}");
            }
        }
    }

    /// <summary>
    /// Reads and checks every group descriptor. Descriptor blocks follow the superblock, or with
    /// meta_bg (from s_first_meta_bg on) sit in the first block after the superblock copy of
    /// the first group of each meta group.
    /// </summary>
    private static GroupDescriptor[] ReadGroupDescriptors(IBlockDevice device, Superblock sb, uint blockSize)
    {
        int descSize = DescriptorSize(sb);
        uint perBlock = blockSize / (uint)descSize;
        ulong groupCount = GroupCount(sb);
        ulong descBlocks = (groupCount + perBlock - 1) / perBlock;
        bool is64 = sb.HasIncompat(Ext4Features.INCOMPAT_64BIT);
        var groups = new GroupDescriptor[groupCount];
        var block = new byte[blockSize];
        uint itbPerGroup = (uint)(((ulong)sb.s_inodes_per_group * (uint)(sb.s_rev_level == 0 ? 128 : sb.s_inode_size) + blockSize - 1) / blockSize);

        for (ulong nr = 0; nr < descBlocks; nr++)
        {
            ulong location = DescriptorBlockLocation(sb, nr, perBlock);
            if (location >= sb.s_blocks_count)
            {
                throw new Ext4MountException($"group descriptor block {nr} lies at {location}, outside the file system");
            }

            try
            {
                device.Read(checked((long)location * blockSize), block);
            }
            catch (Ext4IOException e)
            {
                throw new Ext4MountException($"cannot read group descriptors: {e.Message}", e);
            }

            for (uint i = 0; i < perBlock; i++)
            {
                ulong g = (nr * perBlock) + i;
                if (g >= groupCount)
                {
                    break;
                }

                var d = block.AsSpan((int)(i * (uint)descSize), descSize);
                VerifyDescriptorChecksum(sb, (uint)g, d);
                var gd = new GroupDescriptor(d, is64);
                if (gd.bg_inode_table < sb.s_first_data_block || gd.bg_inode_table == 0
                    || gd.bg_inode_table > sb.s_blocks_count - itbPerGroup)
                {
                    throw new Ext4MountException($"group {g}: inode table at block {gd.bg_inode_table} lies outside the file system");
                }

                CheckDescriptorPlacement(sb, g, gd, itbPerGroup, descBlocks);
                groups[g] = gd;
            }
        }

        return groups;
    }

    /// <summary>
    /// ext4_check_descriptors: both bitmaps and the inode table lie in the group (anywhere in
    /// the volume with flex_bg) and clear of the primary superblock and descriptor blocks. (The
    /// kernel tolerates the overlap on a read-only mount; here it would mean parsing inodes out of
    /// the descriptor table, so it refuses.)
    /// </summary>
    private static void CheckDescriptorPlacement(Superblock sb, ulong g, GroupDescriptor gd, uint itbPerGroup, ulong descBlocks)
    {
        bool flex = sb.HasIncompat(Ext4Features.INCOMPAT_FLEX_BG);
        ulong first = flex ? sb.s_first_data_block : sb.s_first_data_block + (g * sb.s_blocks_per_group);
        ulong last = flex || g == GroupCount(sb) - 1 ? sb.s_blocks_count - 1 : first + sb.s_blocks_per_group - 1;
        ulong superblockBlock = SuperblockLayout.Offset / (1024u << (int)sb.s_log_block_size);
        ulong lastDescriptor = superblockBlock + (sb.HasIncompat(Ext4Features.INCOMPAT_META_BG) ? Math.Min(sb.s_first_meta_bg, descBlocks) : descBlocks);

        void Check(string what, ulong start, ulong count)
        {
            if (start <= lastDescriptor && start + count - 1 >= superblockBlock)
            {
                throw new Ext4MountException($"group {g}: {what} at block {start} overlaps the superblock or group descriptors");
            }

            if (start < first || start + count - 1 > last)
            {
                throw new Ext4MountException($"group {g}: {what} at block {start} is not in its group ({first}-{last})");
            }
        }

        Check("block bitmap", gd.bg_block_bitmap, 1);
        Check("inode bitmap", gd.bg_inode_bitmap, 1);
        Check("inode table", gd.bg_inode_table, itbPerGroup);
    }

    /// <summary>
    /// descriptor_loc: descriptor block <paramref name="nr"/> follows the primary superblock's
    /// block (1 with 1 KiB blocks, else 0; s_first_data_block is 0 for bigalloc even with 1 KiB
    /// blocks), unless meta_bg places it after the first group of its meta group (and after
    /// that group's superblock copy, which with 1 KiB blocks and s_first_data_block 0 occupies
    /// block 1 in group 0).
    /// </summary>
    internal static ulong DescriptorBlockLocation(Superblock sb, ulong nr, uint perBlock)
    {
        uint blockSize = 1024u << (int)sb.s_log_block_size;
        ulong superblockBlock = SuperblockLayout.Offset / blockSize;
        if (!sb.HasIncompat(Ext4Features.INCOMPAT_META_BG) || nr < sb.s_first_meta_bg)
        {
            return superblockBlock + nr + 1;
        }

        ulong bg = nr * perBlock;
        ulong hasSuper = GroupHasSuper(sb, bg) ? 1u : 0u;
        if (blockSize == 1024 && nr == 0 && sb.s_first_data_block == 0)
        {
            hasSuper++;
        }

        return (bg * sb.s_blocks_per_group) + sb.s_first_data_block + hasSuper;
    }

    /// <summary>ext4_bg_has_super: group 0 always; with sparse_super only 0, 1 and powers of 3, 5, 7; with sparse_super2 the two s_backup_bgs.</summary>
    internal static bool GroupHasSuper(Superblock sb, ulong group)
    {
        if (group == 0)
        {
            return true;
        }

        if (sb.HasCompat(Ext4Features.COMPAT_SPARSE_SUPER2))
        {
            return group == sb.s_backup_bgs[0] || group == sb.s_backup_bgs[1];
        }

        if (group <= 1 || !sb.HasRoCompat(Ext4Features.RO_COMPAT_SPARSE_SUPER))
        {
            return true;
        }

        if ((group & 1) == 0)
        {
            return false;
        }

        return IsPowerOf(group, 3) || IsPowerOf(group, 5) || IsPowerOf(group, 7);
    }

    private static bool IsPowerOf(ulong n, ulong b)
    {
        ulong p = b;
        while (p < n)
        {
            p *= b;
        }

        return p == n;
    }

    /// <summary>Throws when descriptor <paramref name="group"/>'s bg_checksum does not match <see cref="DescriptorChecksum"/>.</summary>
    private static void VerifyDescriptorChecksum(Superblock sb, uint group, ReadOnlySpan<byte> d)
    {
        ushort stored = BinaryPrimitives.ReadUInt16LittleEndian(d[GroupDescriptor.bg_checksum..]);
        if (DescriptorChecksum(sb, group, d) is not { } computed)
        {
            return;
        }

        if (computed != stored)
        {
            throw new Ext4MountException(
                $"group descriptor {group} checksum mismatch (stored 0x{stored:x4}, computed 0x{computed:x4})");
        }
    }

    /// <summary>
    /// ext4_group_desc_csum. metadata_csum: crc32c(s_csum_seed, le32 group, descriptor with
    /// bg_checksum as zero) &amp; 0xFFFF. gdt_csum: crc16(~0, s_uuid, le32 group, descriptor without
    /// bg_checksum). Null when the volume has neither feature.
    /// </summary>
    internal static ushort? DescriptorChecksum(Superblock sb, uint group, ReadOnlySpan<byte> d)
    {
        Span<byte> le = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(le, group);
        if (sb.HasRoCompat(Ext4Features.RO_COMPAT_METADATA_CSUM))
        {
            uint seed = sb.HasIncompat(Ext4Features.INCOMPAT_CSUM_SEED) ? sb.s_checksum_seed : Crc32c.Append(~0u, sb.s_uuid);
            uint c = Crc32c.Append(seed, le);
            c = Crc32c.Append(c, d[..GroupDescriptor.bg_checksum]);
            c = Crc32c.AppendZeros(c, 2);
            c = Crc32c.Append(c, d[(GroupDescriptor.bg_checksum + 2)..]);
            return (ushort)(c & 0xFFFF);
        }

        if (sb.HasRoCompat(Ext4Features.RO_COMPAT_GDT_CSUM))
        {
            ushort c = Crc16.Append(0xFFFF, sb.s_uuid);
            c = Crc16.Append(c, le);
            c = Crc16.Append(c, d[..GroupDescriptor.bg_checksum]);
            if (d.Length > GroupDescriptor.bg_checksum + 2)
            {
                c = Crc16.Append(c, d[(GroupDescriptor.bg_checksum + 2)..]);
            }

            return c;
        }

        return null;
    }
}
