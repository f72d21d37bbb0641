using System.Buffers.Binary;
using Safemount.Ext4.Format;
using Safemount.Ext4.Storage;
using L = Safemount.Ext4.Journal.JournalLayout;

namespace Safemount.Ext4.Journal;

/// <summary>
/// Replays the internal jbd2 journal of a volume marked needs_recovery (INCOMPAT_RECOVER),
/// either into an <see cref="OverlayBlockDevice"/> (read-only opens: the device is never
/// written) or onto the device itself (read-write opens).
///
/// Order: journal inode (s_journal_inum; external journals are refused), journal superblock,
/// the three passes of <see cref="JournalRecovery"/> (nothing is written before they all
/// succeeded), a fast-commit area with data for this log is refused, then the writes. Device
/// replay writes the logged blocks and flushes; if the journal recorded an error (s_errno),
/// marks the ext4 superblock with EXT4_ERROR_FS and flushes; marks the journal empty (s_start
/// 0, s_sequence one past the end, s_errno 0, as e2fsck does) and flushes; then clears
/// needs_recovery in the ext4 superblock and flushes. A crash between steps leaves a volume
/// that replays again or has nothing left to replay, and never loses the recorded error. Both
/// modes clear needs_recovery in the replayed superblock (after checking its checksum, so a
/// corrupt logged superblock is not blessed with a fresh one).
///
/// Orphan inodes are not processed: read-only serving never shows them (they are unlinked,
/// so unreachable from the root), and the read-write engine will own orphan cleanup.
/// </summary>
internal static class JournalReplay
{
    /// <summary>s_state bit: errors were detected (EXT4_ERROR_FS).</summary>
    private const ushort EXT4_ERROR_FS = 0x0002;

    /// <summary>
    /// Replays the journal of the volume described by <paramref name="pre"/> (opened on the
    /// un-replayed device, read only to find the journal inode). With a non-null
    /// <paramref name="target"/> (which must be pre's device) the device is written; otherwise
    /// an overlay is returned. Adds what was replayed (and a recorded journal error) to
    /// <paramref name="warnings"/>.
    /// Throws <see cref="Ext4MountException"/>, <see cref="Ext4CorruptionException"/> (or
    /// <see cref="Ext4ChecksumException"/>) or <see cref="Ext4IOException"/>.
    /// </summary>
    public static IBlockDevice Recover(Ext4Volume pre, IWritableBlockDevice? target, List<string> warnings)
    {
        var sb = pre.Sb;
        if (!sb.HasCompat(Ext4Features.COMPAT_HAS_JOURNAL))
        {
            throw new Ext4MountException("needs_recovery is set but the file system has no journal");
        }

        if (sb.s_journal_inum == 0)
        {
            throw new Ext4MountException(
                "journal needs recovery but the journal is external (journal_dev); external journals are not supported");
        }

        uint blockSize = pre.BlockSize;
        var inode = pre.ReadInode(sb.s_journal_inum);
        if (!inode.IsRegular || inode.LinksCount == 0)
        {
            throw new Ext4MountException($"journal inode {sb.s_journal_inum} is not a regular file in use");
        }

        if (inode.Size < blockSize)
        {
            throw new Ext4MountException($"journal inode {sb.s_journal_inum} is empty (i_size {inode.Size})");
        }

        ulong inodeBlocks = (ulong)inode.Size / blockSize;

        // Block 0 first: s_maxlen, checked against the inode size, bounds the rest of the mapping.
        var jsbBlock = new byte[blockSize];
        new JournalFile(pre, inode, 1).Read(0, jsbBlock);
        var jsb = JournalSuperblock.Parse(jsbBlock, blockSize, inodeBlocks);
        var file = new JournalFile(pre, inode, jsb.s_maxlen);

        var recovery = new JournalRecovery(jsb, file, sb.s_blocks_count);
        if (jsb.s_start != 0)
        {
            recovery.Run();
            if (recovery.FailedCommit != 0)
            {
                throw new Ext4ChecksumException(
                    $"journal transaction {recovery.FailedCommit} is corrupt (its commit block fails its checksum)");
            }

            CheckFastCommitArea(jsb, file, recovery.EndTransaction);
            foreach (var (block, _) in recovery.Plan)
            {
                if (file.ContainsPhysical(block))
                {
                    throw new Ext4CorruptionException($"the journal logs block {block}, which belongs to the journal itself");
                }
            }
        }

        string summary = jsb.s_start == 0
            ? "the journal was empty"
            : $"transactions {recovery.StartTransaction}..{recovery.EndTransaction - 1}, {recovery.Plan.Count} blocks, {recovery.RevokeHits} revoked";

        // A journal aborted with an error carries it in s_errno; like the kernel
        // (ext4_clear_journal_err) and e2fsck, the replayed file system is then marked with
        // errors and, on the device, the journal's s_errno is cleared.
        bool journalError = jsb.s_errno != 0;
        if (journalError)
        {
            warnings.Add($"the journal recorded error {jsb.s_errno}; the file system is marked with errors");
        }

        if (target is null)
        {
            var overlay = new OverlayBlockDevice(pre.Device, (int)blockSize);
            var data = new byte[blockSize];
            foreach (var (block, source) in recovery.Plan)
            {
                if (source.Escaped)
                {
                    file.Read(source.JournalBlock, data);
                    BinaryPrimitives.WriteUInt32BigEndian(data, L.JBD2_MAGIC_NUMBER);
                    overlay.Replace(block, data);
                }
                else
                {
                    overlay.Redirect(block, checked((long)file.Physical(source.JournalBlock) * blockSize));
                }
            }

            ulong sbBlock = SuperblockLayout.Offset / blockSize;
            overlay.Read(checked((long)sbBlock * blockSize), data);
            PatchSuperblock(data.AsSpan((int)(SuperblockLayout.Offset % blockSize), SuperblockLayout.Size), clearRecover: true, markError: journalError);
            overlay.Replace(sbBlock, data);
            overlay.Seal();
            warnings.Add($"journal replayed into memory (read-only; the device was not modified): {summary}");
            return overlay;
        }

        if (!ReferenceEquals(target, pre.Device))
        {
            throw new ArgumentException("the write target must be the volume's own device", nameof(target));
        }

        ReplayOntoDevice(target, file, recovery, jsb, jsbBlock, blockSize, journalError);
        warnings.Add($"journal replayed onto the device: {summary}");
        return target;
    }

    private static void ReplayOntoDevice(IWritableBlockDevice device, JournalFile file, JournalRecovery recovery,
        JournalSuperblock jsb, byte[] jsbBlock, uint blockSize, bool journalError)
    {
        var data = new byte[blockSize];
        if (jsb.s_start != 0 || journalError)
        {
            // No target is a journal block (checked), so no write below changes a later source.
            foreach (var (block, source) in recovery.Plan.OrderBy(p => p.Key))
            {
                file.Read(source.JournalBlock, data);
                if (source.Escaped)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(data, L.JBD2_MAGIC_NUMBER);
                }

                device.Write(checked((long)block * blockSize), data);
            }

            device.Flush();

            if (journalError)
            {
                // The error reaches the file system before the journal forgets it.
                PatchSuperblock(device, clearRecover: false, markError: true);
            }

            // Mark the journal empty: the log restarts at the transaction after the replayed ones.
            if (jsb.s_start != 0)
            {
                BinaryPrimitives.WriteUInt32BigEndian(jsbBlock.AsSpan(L.s_start), 0);
                BinaryPrimitives.WriteUInt32BigEndian(jsbBlock.AsSpan(L.s_sequence), recovery.EndTransaction + 1);
            }

            BinaryPrimitives.WriteUInt32BigEndian(jsbBlock.AsSpan(L.s_errno), 0);
            if (jsb.HasCsumV2OrV3)
            {
                BinaryPrimitives.WriteUInt32BigEndian(jsbBlock.AsSpan(L.s_checksum), 0);
                uint c = Crc32c.Append(~0u, jsbBlock.AsSpan(0, L.SuperblockSize));
                BinaryPrimitives.WriteUInt32BigEndian(jsbBlock.AsSpan(L.s_checksum), c);
            }

            device.Write(checked((long)file.Physical(0) * blockSize), jsbBlock.AsSpan(0, L.SuperblockSize));
            device.Flush();
        }

        PatchSuperblock(device, clearRecover: true, markError: journalError);
    }

    private static void PatchSuperblock(IWritableBlockDevice device, bool clearRecover, bool markError)
    {
        var raw = new byte[SuperblockLayout.Size];
        device.Read(SuperblockLayout.Offset, raw);
        PatchSuperblock(raw, clearRecover, markError);
        device.Write(SuperblockLayout.Offset, raw);
        device.Flush();
    }

    /// <summary>
    /// In the (replayed) ext4 superblock <paramref name="raw"/>: clears INCOMPAT_RECOVER when
    /// <paramref name="clearRecover"/>, sets EXT4_ERROR_FS in s_state when
    /// <paramref name="markError"/>, and with metadata_csum recomputes s_checksum after
    /// verifying the old one.
    /// </summary>
    private static void PatchSuperblock(Span<byte> raw, bool clearRecover, bool markError)
    {
        var sb = new Superblock(raw);
        if (sb.s_magic != SuperblockLayout.EXT4_SUPER_MAGIC)
        {
            throw new Ext4CorruptionException("the replayed superblock has a bad magic number");
        }

        bool csum = sb.HasRoCompat(Ext4Features.RO_COMPAT_METADATA_CSUM);
        if (csum && Crc32c.Append(~0u, raw[..SuperblockLayout.s_checksum]) != sb.s_checksum)
        {
            throw new Ext4ChecksumException("the replayed superblock fails its checksum");
        }

        if (clearRecover)
        {
            uint incompat = sb.s_feature_incompat & ~Ext4Features.INCOMPAT_RECOVER;
            BinaryPrimitives.WriteUInt32LittleEndian(raw[SuperblockLayout.s_feature_incompat..], incompat);
        }

        if (markError)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(raw[SuperblockLayout.s_state..], (ushort)(sb.s_state | EXT4_ERROR_FS));
        }

        if (csum)
        {
            uint c = Crc32c.Append(~0u, raw[..SuperblockLayout.s_checksum]);
            BinaryPrimitives.WriteUInt32LittleEndian(raw[SuperblockLayout.s_checksum..], c);
        }
    }

    /// <summary>
    /// With FAST_COMMIT, the area after the log holds fast-commit blocks; the kernel replays them
    /// when the area starts with an EXT4_FC_TAG_HEAD whose fc_tid is the first transaction not
    /// in the log. This engine does not replay fast commits, so such an area refuses the mount;
    /// an empty or stale area is ignored, as the kernel ignores it.
    /// </summary>
    private static void CheckFastCommitArea(JournalSuperblock jsb, JournalFile file, uint endTransaction)
    {
        if (!jsb.HasIncompat(L.JBD2_FEATURE_INCOMPAT_FAST_COMMIT))
        {
            return;
        }

        // j_fc_first = j_last + 1 (jbd2_journal_initialize_fast_commit).
        uint first = jsb.Last + 1;
        if (first >= jsb.s_maxlen)
        {
            return;
        }

        var block = new byte[jsb.s_blocksize];
        file.Read(first, block);
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(block);
        ushort len = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(2));
        if (tag == L.EXT4_FC_TAG_HEAD && len >= 8 && BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(8)) == endTransaction)
        {
            throw new Ext4MountException(
                $"the journal holds fast-commit blocks for transaction {endTransaction} (fast_commit replay is not supported)");
        }
    }
}
