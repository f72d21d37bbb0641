using System.Buffers.Binary;
using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using Safemount.Ext4.Journal;
using Safemount.Ext4.Storage;
using SL = Safemount.Ext4.Format.SuperblockLayout;

namespace Safemount.Ext4;

/// <summary>
/// The write side's transaction machinery (kernel: jbd2 handles, ext4_commit_super).
///
/// Lock order of the whole engine — a thread acquires only downwards, never upwards:
///   0. the rename lock (Ext4Volume.Namespace.Rename.cs), for renames that change parents, as the
///      kernel's s_vfs_rename_mutex: it makes the ancestry check and the parent lock order stable;
///   1. inode locks (<see cref="InodeLocks"/>): directories before non-directories; between two
///      directories the ancestor first, otherwise ascending inode number (the VFS's lock_rename);
///   2. the transaction handle (<see cref="Begin"/>), as the kernel starts a handle after i_rwsem;
///   2b. the orphan list lock (Orphans) and the xattr block stripe locks (shared xattr blocks,
///      XattrWriter), never held together;
///   3. allocator group locks, ascending group number;
///   4. leaves, never held across I/O or another acquisition: the block stripe locks inside
///      <see cref="EditBlock"/>, the cache's lock, the inode lock table's lock.
/// <see cref="Sync"/> is called holding no handle (it waits for every open handle to end).
///
/// With a journal (has_journal), <see cref="Sync"/> is a jbd2 commit (Ext4Volume.Journal.cs):
/// the first change of a mount starts the journal and sets needs_recovery, each Sync logs the
/// blocks changed since the previous one as one transaction, checkpoints write them home later,
/// and the clean <see cref="Unmount"/> empties the journal and clears needs_recovery. Without a
/// journal, changes are written in place: the first change clears EXT4_VALID_FS on disk (as a
/// journal-less ext4 mount does), so a crash before the clean unmount leaves a file system that
/// fsck checks in full.
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>Block stripes serializing copy-edit-install per block (power of two).</summary>
    private const int BlockStripes = 64;

    private readonly Lock[] _blockStripes = CreateStripes();

    /// <summary>Open handles hold the read side; <see cref="Sync"/> takes the write side to cut a consistent state (jbd2's t_updates barrier).</summary>
    private readonly ReaderWriterLockSlim _handles = new(LockRecursionPolicy.NoRecursion);

    /// <summary>Serializes whole Syncs (held across their device I/O: a sync is global by nature).</summary>
    private readonly Lock _syncLock = new();

    /// <summary>Free clusters and free inodes of the whole volume (the kernel's percpu counters); written to the superblock by Sync.</summary>
    private long _freeClusters;
    private long _freeInodes;

    /// <summary>1 once this mount's first change has marked the superblock in use (s_state, s_mnt_count, s_mtime); guarded by Interlocked.</summary>
    private int _markedInUse;

    /// <summary>Set by <see cref="Unmount"/>.</summary>
    private bool _unmounted;

    /// <summary>File data bytes written since the last superblock stamp, for s_kbytes_written.</summary>
    private long _dataBytesWritten;

    /// <summary>Bytes counted but below 1 KiB, carried to the next stamp; guarded by the handle barrier's write side.</summary>
    private long _bytesNotStamped;

    /// <summary>Periodic write-back (commit=); created by the first change, stopped by <see cref="Unmount"/>. Guarded by <see cref="_syncLock"/>.</summary>
    private Timer? _commitTimer;

    /// <summary>The commit= interval (positive).</summary>
    internal TimeSpan CommitInterval { get; private init; } = Ext4OpenOptions.DefaultCommitInterval;

    /// <summary>Per-inode reader/writer locks (lock order level 1).</summary>
    internal InodeLockTable InodeLocks { get; } = new();

    /// <summary>The device, writable; only for a volume that is not read-only.</summary>
    internal IWritableBlockDevice WritableDevice =>
        _writable ?? throw new InvalidOperationException("the volume is read-only");

    /// <summary>Free clusters now (blocks without bigalloc).</summary>
    internal long FreeClustersCount => Interlocked.Read(ref _freeClusters);

    /// <summary>Free inodes now.</summary>
    internal long FreeInodesCount => Interlocked.Read(ref _freeInodes);

    /// <summary>Starts a handle on the running transaction. Throws on a read-only volume.</summary>
    internal Ext4Transaction Begin()
    {
        ThrowIfShutDown();
        if (IsReadOnly)
        {
            throw new Ext4ReadOnlyException(_openedReadOnly ? "the volume is read-only" : "the volume turned read-only after an error (errors=remount-ro)");
        }

        ObjectDisposedException.ThrowIf(_unmounted, this);

        // Before the handle: MarkInUse takes _syncLock, which Sync holds while it waits for handles.
        MarkInUse();

        // A running transaction that has grown to its limit commits before another handle joins
        // it (jbd2's start_this_handle waits for the commit likewise); without a journal, the
        // dirty blocks are written back at the same share of the budget. The caller may hold
        // inode locks but no handle, which is all Sync needs (lock order).
        if (_journal is { } journal ? Cache.UnloggedCount >= MaxTransactionBlocksOf(journal) : Cache.DirtyCount >= MaxBacklogBlocks)
        {
            Sync();
        }

        _handles.EnterReadLock();
        return new Ext4Transaction(this);
    }

    /// <summary>
    /// The write side's share of the cache budget (Cache.Capacity blocks, cache_size): how many
    /// changed blocks may wait before they are written (bench/RESULTS.md "Run 8c"). With a
    /// journal, a transaction commits at <see cref="MaxTransactionBlocksOf"/> (a quarter of the
    /// budget, or jbd2's quarter of the log when that is less) and a commit that leaves more than
    /// this, half the budget, waiting for its checkpoint checkpoints them. So the pinned blocks
    /// are at most: the backlog after the last commit (half) + the transaction being committed
    /// (a quarter) + the running one (a quarter), each plus what the handles open when its limit
    /// was reached added — the whole budget; the clean blocks give way to them (BlockCache).
    /// Without a journal, the dirty blocks are written back at half the budget.
    /// </summary>
    internal int MaxBacklogBlocks => Cache.Capacity / 2;

    /// <summary>Blocks at which the running transaction commits before the next handle starts: a quarter of the cache budget, at most <paramref name="journal"/>'s MaxTransactionBlocks.</summary>
    private int MaxTransactionBlocksOf(JournalWriter journal) => Math.Min(journal.MaxTransactionBlocks, Cache.Capacity / 4);

    /// <summary>The running transaction's commit threshold (0 without a journal; tests).</summary>
    internal int MaxTransactionBlocks => _journal is { } journal ? MaxTransactionBlocksOf(journal) : 0;

    /// <summary>Called once per handle by <see cref="Ext4Transaction.Dispose"/>, on the thread that began it.</summary>
    internal void EndHandle() => _handles.ExitReadLock();

    /// <summary>Adds <paramref name="delta"/> to the volume's free-cluster total (allocator, in the same handle as the group counters).</summary>
    internal void AddFreeBlocks(long delta) => Interlocked.Add(ref _freeClusters, delta);

    /// <summary>Adds <paramref name="delta"/> to the volume's free-inode total.</summary>
    internal void AddFreeInodes(long delta) => Interlocked.Add(ref _freeInodes, delta);

    /// <summary>
    /// Makes every change made so far durable: waits for open handles to end, writes the
    /// superblock counters, writes every dirty metadata block in ascending order, then flushes
    /// the device. Does nothing on a read-only volume.
    /// </summary>
    public void Sync() => Sync(idle: false);

    /// <summary><paramref name="idle"/>: called by the commit timer, which also checkpoints a journal that has nothing new to commit.</summary>
    private void Sync(bool idle)
    {
        if (_openedReadOnly || _writable is null)
        {
            return;
        }

        if (_journal is not null)
        {
            CommitJournal(idle);
            return;
        }

        lock (_syncLock)
        {
            List<(ulong Block, byte[] Data)> dirty;
            long installs;
            _handles.EnterWriteLock();
            try
            {
                if (Cache.DirtyCount == 0)
                {
                    dirty = [];
                }
                else
                {
                    WriteSuperblockCounters((long)Cache.DirtyCount * BlockSize);
                    dirty = Cache.DirtySnapshot();
                }

                // Last inside the barrier: the superblock counters above are an install too.
                installs = Cache.Installs;
            }
            finally
            {
                _handles.ExitWriteLock();
            }

            foreach (var (block, data) in dirty)
            {
                WritableDevice.Write(checked((long)block << BlockSizeBits), data);
            }

            WritableDevice.Flush();
            MarkDurable(installs);
            foreach (var (block, data) in dirty)
            {
                Cache.MarkClean(block, data);
            }
        }
    }

    /// <summary>
    /// True while a metadata change made on this volume may not survive a crash yet: some block
    /// was installed in the cache after the last commit (journal) or write-back (no journal) that
    /// completed with its device flush. The volume-wide, conservative form of the kernel's
    /// ext4_inode_datasync_dirty (which asks the same per inode): a mapping handed to a writer
    /// while this is true must make fdatasync/O_DSYNC commit (fuse-iomap: FUSE_IOMAP_F_DIRTY).
    /// </summary>
    public bool HasUndurableChanges => Cache.Installs > Volatile.Read(ref _durableInstalls);

    /// <summary>Installs counted up to the last commit or write-back that completed with its flush.
    /// Written only under <see cref="_syncLock"/>.</summary>
    private long _durableInstalls;

    /// <summary>Every change up to <paramref name="installs"/> (read at the commit's barrier) is on stable storage. Caller holds <see cref="_syncLock"/>.</summary>
    private void MarkDurable(long installs) => Volatile.Write(ref _durableInstalls, Math.Max(_durableInstalls, installs));

    /// <summary>
    /// Clean unmount: syncs, then, when this mount changed anything, sets EXT4_VALID_FS again
    /// (unless errors were recorded) and syncs that. The volume accepts no handles afterwards.
    /// </summary>
    public void Unmount()
    {
        if (_openedReadOnly || _writable is null || _unmounted)
        {
            return;
        }

        Timer? timer;
        lock (_syncLock)
        {
            timer = _commitTimer;
            _commitTimer = null;
        }

        if (timer is not null)
        {
            // Waits for a running callback, so no periodic sync overlaps the final ones.
            using var done = new ManualResetEvent(false);
            if (timer.Dispose(done))
            {
                done.WaitOne();
            }
        }

        Sync();
        if (_journal is not null)
        {
            StopJournal();
        }
        else if (Volatile.Read(ref _markedInUse) != 0)
        {
            lock (_syncLock)
            {
                _handles.EnterWriteLock();
                try
                {
                    EditSuperblock(sb =>
                    {
                        ushort state = BinaryPrimitives.ReadUInt16LittleEndian(sb[SL.s_state..]);
                        if ((state & SL.EXT4_ERROR_FS) == 0)
                        {
                            state |= SL.EXT4_VALID_FS;
                        }

                        BinaryPrimitives.WriteUInt16LittleEndian(sb[SL.s_state..], state);
                    });
                }
                finally
                {
                    _handles.ExitWriteLock();
                }
            }

            Sync();
        }

        _unmounted = true;
    }

    /// <summary>The commit timer's callback: a failed write-back is recorded as an error (errors= decides what follows), never thrown on the timer thread.</summary>
    private void PeriodicSync()
    {
        try
        {
            Sync(idle: true);
        }
        catch (Ext4IOException e)
        {
            ReportError(e, "ext4_commit");
        }
        catch (ObjectDisposedException)
        {
            // Unmounted between the tick and the callback.
        }
    }

    /// <summary>
    /// Copy-edit-install of one metadata block under its stripe lock (lock order level 4).
    /// <paramref name="fromZero"/>: start from zeros instead of the current version.
    /// </summary>
    internal void EditBlock(ulong block, BlockEdit edit, bool fromZero)
    {
        Lock stripe = _blockStripes[(int)(block & (BlockStripes - 1))];
        lock (stripe)
        {
            var copy = new byte[BlockSize];
            if (!fromZero)
            {
                Cache.Get(block).CopyTo(copy, 0);
            }

            edit(copy);
            Cache.Install(block, copy);
        }
    }

    /// <summary>Current time for inode and superblock stamps: seconds since the epoch and nanoseconds.</summary>
    public static (long Seconds, uint Nanoseconds) Now()
    {
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        return (ticks / TimeSpan.TicksPerSecond, (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    /// <summary>Sums the group descriptors' free counts (ext4_count_free_clusters / ext4_count_free_inodes at mount).</summary>
    private void InitializeFreeCounters()
    {
        long clusters = 0, inodes = 0;
        foreach (var g in Groups)
        {
            clusters += g.bg_free_blocks_count;
            inodes += g.bg_free_inodes_count;
        }

        _freeClusters = clusters;
        _freeInodes = inodes;
    }

    /// <summary>
    /// The first change of a mount marks the superblock in use before anything else can reach
    /// the disk: without a journal EXT4_VALID_FS cleared, s_mnt_count + 1, s_mtime now
    /// (ext4_setup_super), written and flushed at once; with a journal see StartJournal.
    /// </summary>
    private void MarkInUse()
    {
        if (Volatile.Read(ref _markedInUse) != 0)
        {
            return;
        }

        lock (_syncLock)
        {
            if (_markedInUse != 0)
            {
                return;
            }

            var (now, _) = Now();
            if (_journal is not null)
            {
                StartJournal(now);
                _commitTimer = new Timer(static state => ((Ext4Volume)state!).PeriodicSync(), this, CommitInterval, CommitInterval);
                Volatile.Write(ref _markedInUse, 1);
                return;
            }

            EditSuperblock(sb =>
            {
                ushort state = BinaryPrimitives.ReadUInt16LittleEndian(sb[SL.s_state..]);
                BinaryPrimitives.WriteUInt16LittleEndian(sb[SL.s_state..], (ushort)(state & ~SL.EXT4_VALID_FS));
                ushort count = BinaryPrimitives.ReadUInt16LittleEndian(sb[SL.s_mnt_count..]);
                BinaryPrimitives.WriteUInt16LittleEndian(sb[SL.s_mnt_count..], (ushort)(count + 1));
                WriteTime(sb, SL.s_mtime, SL.s_mtime_hi, now);
            });
            WriteSuperblockBlockNow();
            _commitTimer = new Timer(static state => ((Ext4Volume)state!).PeriodicSync(), this, CommitInterval, CommitInterval);
            Volatile.Write(ref _markedInUse, 1);
        }
    }

    /// <summary>Writes the superblock's block as cached now and flushes (ext4_commit_super outside a commit); caller holds <see cref="_syncLock"/>.</summary>
    private void WriteSuperblockBlockNow()
    {
        byte[] version = Cache.Get(SuperblockBlock);
        WritableDevice.Write(checked((long)SuperblockBlock << BlockSizeBits), version);
        WritableDevice.Flush();
        Cache.MarkClean(SuperblockBlock, version);
    }

    /// <summary>Block holding the primary superblock (byte 1024): 1 with 1 KiB blocks, else 0.</summary>
    internal ulong SuperblockBlock => (ulong)SL.Offset >> BlockSizeBits;

    /// <summary>
    /// ext4_commit_super's bookkeeping: free counts, s_wtime, s_kbytes_written (+ the data and the
    /// <paramref name="metadataBytes"/> about to be written); caller holds the handle barrier's write side.
    /// </summary>
    private void WriteSuperblockCounters(long metadataBytes)
    {
        long clusters = Math.Max(0, Interlocked.Read(ref _freeClusters));
        long inodes = Math.Max(0, Interlocked.Read(ref _freeInodes));
        ulong freeBlocks = (ulong)clusters << (int)ClusterBits;
        long bytes = _bytesNotStamped + Interlocked.Exchange(ref _dataBytesWritten, 0) + metadataBytes;
        _bytesNotStamped = bytes & 1023;
        var (now, _) = Now();
        EditSuperblock(sb =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_free_blocks_count_lo..], (uint)freeBlocks);
            if (Sb.HasIncompat(Ext4Features.INCOMPAT_64BIT))
            {
                BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_free_blocks_count_hi..], (uint)(freeBlocks >> 32));
            }

            BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_free_inodes_count..], (uint)inodes);
            WriteTime(sb, SL.s_wtime, SL.s_wtime_hi, now);
            ulong written = BinaryPrimitives.ReadUInt64LittleEndian(sb[SL.s_kbytes_written..]);
            BinaryPrimitives.WriteUInt64LittleEndian(sb[SL.s_kbytes_written..], written + (ulong)(bytes >> 10));
        });
    }

    /// <summary>Counts file data written to the device (for s_kbytes_written).</summary>
    internal void CountDataWritten(long bytes) => Interlocked.Add(ref _dataBytesWritten, bytes);

    /// <summary>log2(blocks per cluster): 0 without bigalloc.</summary>
    private uint ClusterBits => Sb.HasRoCompat(Ext4Features.RO_COMPAT_BIGALLOC) ? Sb.s_log_cluster_size - Sb.s_log_block_size : 0;

    /// <summary>Sets s_last_orphan (the head of the orphan chain) through <paramref name="tx"/>; caller holds the orphan lock.</summary>
    internal void SetLastOrphan(Ext4Transaction tx, uint ino)
    {
        // Not tx.Modify: the primary superblock may share block 0 with the boot sector, which
        // CheckBlockRange rightly refuses for everything else.
        tx.ModifyPrimarySuperblock(SuperblockEditOf(sb => BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_last_orphan..], ino)));
    }

    /// <summary>Edits the primary superblock's 1024 bytes through the cache and re-seals s_checksum (metadata_csum).</summary>
    private void EditSuperblock(SuperblockEdit edit) => EditBlock(SuperblockBlock, SuperblockEditOf(edit), fromZero: false);

    /// <summary>The block edit that applies <paramref name="edit"/> to the superblock's bytes in its block and re-seals s_checksum.</summary>
    private BlockEdit SuperblockEditOf(SuperblockEdit edit)
    {
        int offset = (int)((ulong)SL.Offset & (BlockSize - 1));
        bool csum = HasMetadataCsum;
        return block =>
        {
            Span<byte> sb = block.Slice(offset, SL.Size);
            edit(sb);
            if (csum)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(sb[SL.s_checksum..], Crc32c.Append(~0u, sb[..SL.s_checksum]));
            }
        };
    }

    /// <summary>A 32-bit seconds field with its 8-bit high byte (s_wtime/s_wtime_hi style).</summary>
    private static void WriteTime(Span<byte> sb, int lo, int hi, long seconds)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(sb[lo..], (uint)seconds);
        sb[hi] = (byte)(seconds >> 32);
    }

    private static Lock[] CreateStripes()
    {
        var stripes = new Lock[BlockStripes];
        for (int i = 0; i < stripes.Length; i++)
        {
            stripes[i] = new Lock();
        }

        return stripes;
    }

    private delegate void SuperblockEdit(Span<byte> superblock);
}
