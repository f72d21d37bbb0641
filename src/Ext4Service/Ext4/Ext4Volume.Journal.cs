using System.Buffers.Binary;
using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using Safemount.Ext4.Journal;
using SL = Safemount.Ext4.Format.SuperblockLayout;

namespace Safemount.Ext4;

/// <summary>
/// Journaled metadata (jbd2 through <see cref="JournalWriter"/>): the commit that
/// <see cref="Sync"/> performs on a volume with a journal, its start at the first change of a
/// mount and its stop at the clean unmount.
///
/// Transaction = every metadata block installed in the cache since the previous commit
/// (BlockCache.TakeUnlogged), cut behind the handle barrier so that no handle is half applied;
/// the superblock's free counts are stamped into it at the cut. Blocks freed by a transaction
/// stay unusable until it is durable (<see cref="Freed"/>). A failed commit aborts the journal
/// (as jbd2_journal_abort): the error is recorded and the volume takes no further changes.
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>The journal writer of a read-write volume with an internal journal; null otherwise.</summary>
    private JournalWriter? _journal;

    /// <summary>Set when a commit failed: nothing more may be logged (jbd2: JBD2_ABORT).</summary>
    private volatile bool _journalAborted;

    /// <summary>Blocks freed by transactions not yet durable; null without a journal (in-place writing needs no such wait).</summary>
    internal FreedBlocks? Freed { get; private set; }

    /// <summary>True when this read-write volume journals its metadata.</summary>
    public bool IsJournaled => _journal is not null;

    /// <summary>Committed blocks waiting for their checkpoint (0 without a journal; diagnostics and tests). Read without the sync lock: a snapshot.</summary>
    internal int JournalPendingCount => _journal?.PendingCount ?? 0;

    /// <summary>The transaction the next commit writes (0 without a journal; diagnostics and tests).</summary>
    internal uint JournalNextTransaction => _journal?.NextTransaction ?? 0;

    /// <summary>
    /// True when an allocation that failed with ENOSPC may succeed after a <see cref="Sync"/>:
    /// blocks freed by a transaction that has not committed yet are waiting (the kernel's
    /// ext4_should_retry_alloc forces a commit in that case).
    /// </summary>
    public bool SpaceWaitsForCommit => Freed?.Any ?? false;

    /// <summary>At open of a read-write volume with has_journal: opens its (empty, already replayed) journal for writing.</summary>
    private void AttachJournal()
    {
        _journal = JournalWriter.Open(this, WritableDevice, MaxBacklogBlocks);
        Freed = new FreedBlocks();
        if (_journal.Discarded is { } discarded)
        {
            _warnings.Add($"the journal held recovery information ({discarded}) but the file system was not marked needs_recovery; cleared, as the kernel does");
        }
    }

    /// <summary>
    /// The first change of a mount with a journal (ext4_fill_super after the journal load): the
    /// superblock gets needs_recovery, s_mnt_count + 1 and s_mtime, written and flushed at once,
    /// then the journal goes live. EXT4_VALID_FS stays as it is: with a journal the kernel does
    /// not clear it. Caller holds <see cref="_syncLock"/> and no handle is open.
    /// </summary>
    private void StartJournal(long now)
    {
        // needs_recovery first: a crash before the journal goes live then finds an empty journal
        // to replay; the other order could leave a live log on a file system not marked for it.
        EditSuperblock(sb =>
        {
            uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(sb[SL.s_feature_incompat..]);
            BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_feature_incompat..], incompat | Ext4Features.INCOMPAT_RECOVER);
            ushort count = BinaryPrimitives.ReadUInt16LittleEndian(sb[SL.s_mnt_count..]);
            BinaryPrimitives.WriteUInt16LittleEndian(sb[SL.s_mnt_count..], (ushort)(count + 1));
            WriteTime(sb, SL.s_mtime, SL.s_mtime_hi, now);
        });
        WriteSuperblockBlockNow();
        _journal!.Start();
    }

    /// <summary>
    /// One jbd2 commit of everything changed since the last one, then the device is flushed
    /// (even with nothing to log: fsync of overwritten file data needs that flush).
    /// <paramref name="idle"/>: with nothing new, checkpoint what waits (the journal is then empty
    /// and the home locations current a commit interval after the last change).
    /// </summary>
    private void CommitJournal(bool idle)
    {
        lock (_syncLock)
        {
            if (_journalAborted)
            {
                throw new Ext4IOException("the journal was aborted after a failed commit");
            }

            if (Volatile.Read(ref _markedInUse) == 0)
            {
                // Nothing was ever changed: the journal has not even started.
                return;
            }

            List<(ulong Block, byte[] Data)> blocks;
            List<(ulong Start, uint Count)> freed;
            long installs;
            _handles.EnterWriteLock();
            try
            {
                if (Cache.UnloggedCount == 0)
                {
                    blocks = [];
                    freed = [];
                }
                else
                {
                    if (!_journal!.Fits(Cache.UnloggedCount))
                    {
                        // Too large for the log (WriteUnjournaled): the superblock going with it says not clean.
                        EditSuperblock(sb =>
                        {
                            ushort state = BinaryPrimitives.ReadUInt16LittleEndian(sb[SL.s_state..]);
                            BinaryPrimitives.WriteUInt16LittleEndian(sb[SL.s_state..], (ushort)(state & ~SL.EXT4_VALID_FS));
                        });
                        _unjournaledWrites = true;
                    }

                    WriteSuperblockCounters((long)Cache.UnloggedCount * BlockSize);
                    blocks = Cache.TakeUnlogged();
                    freed = Freed!.BeginCommit(GroupFirstBlock);
                }

                // Last inside the barrier: the superblock counters above are an install too.
                installs = Cache.Installs;
            }
            finally
            {
                _handles.ExitWriteLock();
            }

            try
            {
                if (blocks.Count == 0)
                {
                    if (idle)
                    {
                        _journal!.Checkpoint(Cache.MarkClean);
                    }

                    WritableDevice.Flush();
                    MarkDurable(installs);
                    return;
                }

                if (!_journal!.Commit(blocks, freed, Cache.MarkClean))
                {
                    WriteUnjournaled(blocks);
                }

                MarkDurable(installs);
            }
            catch (Ext4IOException)
            {
                // The transaction may be half in the log: nothing more may follow it. Its freed
                // blocks stay unusable (Freed keeps them), and the caller's error reaches errors=.
                _journalAborted = true;
                Interlocked.CompareExchange(ref _errorState, ErrorStateReadOnly, ErrorStateNone);
                throw;
            }

            // DEV_INVAL ordering: listeners drop stale copies of the freed blocks before
            // EndCommit lets the allocator hand them out again.
            ReportReusable(freed);
            Freed!.EndCommit();
        }
    }

    /// <summary>Calls <see cref="BlocksReusable"/> once per run of adjacent blocks of <paramref name="freed"/> (sorted by start).</summary>
    private void ReportReusable(List<(ulong Start, uint Count)> freed)
    {
        if (BlocksReusable is not { } reusable || freed.Count == 0)
        {
            return;
        }

        ulong start = freed[0].Start;
        ulong count = freed[0].Count;
        for (int i = 1; i < freed.Count; i++)
        {
            if (freed[i].Start == start + count)
            {
                count += freed[i].Count;
                continue;
            }

            reusable(start, count);
            (start, count) = (freed[i].Start, freed[i].Count);
        }

        reusable(start, count);
    }

    /// <summary>
    /// A transaction larger than the whole log (one handle's changes cannot be split): the
    /// journal is checkpointed, then the blocks are written home directly, the superblock first
    /// (its version in <paramref name="blocks"/> has EXT4_VALID_FS cleared, see CommitJournal), so
    /// a crash in between is found by the next fsck instead of being silently half applied.
    /// </summary>
    private void WriteUnjournaled(List<(ulong Block, byte[] Data)> blocks)
    {
        _journal!.Checkpoint(Cache.MarkClean);
        foreach (var (block, data) in blocks)
        {
            if (block == SuperblockBlock)
            {
                WritableDevice.Write(checked((long)block << BlockSizeBits), data);
                WritableDevice.Flush();
            }
        }

        foreach (var (block, data) in blocks)
        {
            if (block != SuperblockBlock)
            {
                WritableDevice.Write(checked((long)block << BlockSizeBits), data);
            }
        }

        WritableDevice.Flush();
        foreach (var (block, data) in blocks)
        {
            Cache.MarkClean(block, data);
        }
    }

    /// <summary>Set once <see cref="WriteUnjournaled"/> ran: the clean unmount sets EXT4_VALID_FS back.</summary>
    private bool _unjournaledWrites;

    /// <summary>
    /// Clean unmount with a journal (ext4_put_super): the journal is checkpointed and marked
    /// empty, then needs_recovery is cleared in the superblock (and EXT4_VALID_FS set back if an
    /// oversized transaction had cleared it and no error was recorded), written and flushed.
    /// </summary>
    private void StopJournal()
    {
        if (Volatile.Read(ref _markedInUse) == 0 || _journalAborted)
        {
            return;
        }

        lock (_syncLock)
        {
            _journal!.Stop(Cache.MarkClean);
            _handles.EnterWriteLock();
            try
            {
                EditSuperblock(sb =>
                {
                    uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(sb[SL.s_feature_incompat..]);
                    BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_feature_incompat..], incompat & ~Ext4Features.INCOMPAT_RECOVER);
                    ushort state = BinaryPrimitives.ReadUInt16LittleEndian(sb[SL.s_state..]);
                    if (_unjournaledWrites && (state & SL.EXT4_ERROR_FS) == 0)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(sb[SL.s_state..], (ushort)(state | SL.EXT4_VALID_FS));
                    }
                });
            }
            finally
            {
                _handles.ExitWriteLock();
            }

            WriteSuperblockBlockNow();
        }
    }

    /// <summary>First block of group <paramref name="group"/>.</summary>
    private ulong GroupFirstBlock(uint group) => Sb.s_first_data_block + (ulong)group * Sb.s_blocks_per_group;
}
