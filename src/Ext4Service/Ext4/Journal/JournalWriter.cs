using System.Buffers.Binary;
using Safemount.Ext4.Format;
using Safemount.Ext4.Storage;
using L = Safemount.Ext4.Journal.JournalLayout;

namespace Safemount.Ext4.Journal;

/// <summary>
/// Writes the internal jbd2 journal in the kernel's on-disk format (fs/jbd2/commit.c,
/// fs/jbd2/checkpoint.c, fs/jbd2/revoke.c), so that the kernel, e2fsck and
/// <see cref="JournalRecovery"/> replay what it logs.
///
/// The log is the ring [s_first, Last) of the journal inode's blocks. A commit appends, at the
/// head: revoke blocks, then descriptor blocks each followed by the blocks its tags name, then,
/// after a device flush, one commit block and a second flush (the flushes stand for
/// REQ_PREFLUSH and REQ_FUA of jbd2's commit block). The first flush also makes every file
/// data write issued before the commit durable, which is ordered mode: data reaches the disk
/// before the metadata that exposes it.
///
/// Checkpointing is lazy: committed blocks are written to their home locations only when the
/// log is half full, when more than <see cref="MaxPendingBlocks"/> wait (memory: the volume
/// sizes it from its cache budget), at unmount and when the volume is idle; a
/// checkpoint writes every waiting block, flushes, then moves the tail to the head in the
/// journal superblock (s_start, s_sequence) and flushes again, so the log is empty afterwards.
///
/// Invariants:
///   - <see cref="_pending"/> holds the newest committed version of every block whose home
///     location is stale; its versions are immutable (BlockCache copy-on-write);
///   - <see cref="_logged"/> ⊇ keys of <see cref="_pending"/>: every file-system block with a copy
///     in the live log (between tail and head); a freed block in it gets a revoke record in the
///     freeing transaction, and leaves <see cref="_pending"/> when that transaction commits;
///   - transaction ids increase by one per commit, starting at the journal's s_sequence.
/// Not thread-safe: the volume calls it under its sync lock only.
/// </summary>
internal sealed partial class JournalWriter
{
    /// <summary>Default checkpoint backlog of <see cref="Open"/> (4096 blocks are 16 MiB at 4 KiB); the volume passes one sized from its cache budget.</summary>
    public const int DefaultMaxPendingBlocks = 4096;

    /// <summary>
    /// Bytes of the staging buffer through which a commit writes its log blocks (one buffer per
    /// writer, reused): a commit's memory beyond the cached versions is this, not a copy of the
    /// whole transaction.
    /// </summary>
    private const int StageBytes = 256 << 10;

    private readonly IWritableBlockDevice _device;
    private readonly JournalFile _file;
    private readonly byte[] _jsbBlock;
    private readonly int _blockSize;
    private readonly uint _first;
    private readonly uint _last;
    private readonly bool _csumV3;
    private readonly bool _is64;
    private readonly uint _csumSeed;
    private readonly byte[] _uuid;
    private readonly Dictionary<ulong, byte[]> _pending = new();
    private readonly HashSet<ulong> _logged = new();
    private readonly int _maxPendingBlocks;

    private byte[]? _stage;     // staging buffer, StageBlocks blocks; allocated by the first commit
    private int _staged;        // blocks in _stage not yet written
    private uint _stageAt;      // log block of _stage's first block

    private uint _head;         // next log block to write
    private uint _used;         // log blocks between tail and head
    private uint _nextTid;      // transaction the next commit writes
    private bool _started;

    private JournalWriter(IWritableBlockDevice device, JournalFile file, byte[] jsbBlock, JournalSuperblock jsb, bool csumV3, bool is64, int maxPendingBlocks)
    {
        _maxPendingBlocks = Math.Max(1, maxPendingBlocks);
        _device = device;
        _file = file;
        _jsbBlock = jsbBlock;
        _blockSize = (int)jsb.s_blocksize;
        _first = jsb.s_first;
        _last = jsb.Last;
        _csumV3 = csumV3;
        _is64 = is64;
        _uuid = jsb.s_uuid;
        _csumSeed = jsb.CsumSeed;
        _head = _first;
        _nextTid = jsb.s_sequence;
    }

    /// <summary>Blocks of the ring.</summary>
    public uint Capacity => _last - _first;

    /// <summary>
    /// A transaction that has grown to this many blocks is committed before the next handle
    /// starts (jbd2's j_max_transaction_buffers is a quarter of the journal, too).
    /// </summary>
    public int MaxTransactionBlocks => (int)(Capacity / 4);

    /// <summary>
    /// True when a transaction of <paramref name="blocks"/> blocks surely fits the log (counting
    /// a revoke record for every block with a live copy, the most there can be).
    /// </summary>
    public bool Fits(int blocks) =>
        (long)RevokeBlocksFor(_logged.Count) + DescriptorBlocksFor(blocks) + blocks + 1 < Capacity;

    /// <summary>Committed blocks not yet written to their home location.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>A commit that leaves more than this many blocks waiting for their home location checkpoints them (memory: each is a pinned block version).</summary>
    public int MaxPendingBlocks => _maxPendingBlocks;

    /// <summary>Log blocks staged per device write: <see cref="StageBytes"/> worth, at least one.</summary>
    private int StageBlocks => Math.Max(1, StageBytes / _blockSize);

    /// <summary>The next transaction id (diagnostics and tests).</summary>
    public uint NextTransaction => _nextTid;

    /// <summary>
    /// Opens the journal of read-write volume <paramref name="volume"/>, whose journal must be empty
    /// (replayed at open). <paramref name="maxPendingBlocks"/>: the checkpoint backlog (see
    /// <see cref="MaxPendingBlocks"/>). Throws <see cref="Ext4MountException"/> when the journal
    /// cannot be used.
    /// </summary>
    public static JournalWriter Open(Ext4Volume volume, IWritableBlockDevice device, int maxPendingBlocks = DefaultMaxPendingBlocks)
    {
        var sb = volume.Sb;
        if (sb.s_journal_inum == 0)
        {
            throw new Ext4MountException("the journal is external (journal_dev); writing needs an internal journal");
        }

        var inode = volume.ReadInode(sb.s_journal_inum);
        if (!inode.IsRegular || inode.LinksCount == 0 || inode.Size < volume.BlockSize)
        {
            throw new Ext4MountException($"journal inode {sb.s_journal_inum} is not a usable regular file");
        }

        var jsbBlock = new byte[volume.BlockSize];
        new JournalFile(volume, inode, 1).Read(0, jsbBlock);
        var jsb = JournalSuperblock.Parse(jsbBlock, volume.BlockSize, (ulong)inode.Size / volume.BlockSize);
        if (jsb.BlockType != L.JBD2_SUPERBLOCK_V2)
        {
            throw new Ext4MountException("the journal has a version 1 superblock; writing needs version 2");
        }


        uint users = BinaryPrimitives.ReadUInt32BigEndian(jsbBlock.AsSpan(L.s_nr_users));
        if (users > 1)
        {
            throw new Ext4MountException($"the journal is shared by {users} file systems");
        }

        var file = new JournalFile(volume, inode, jsb.s_maxlen);
        bool csumV3 = sb.HasRoCompat(Ext4Features.RO_COMPAT_METADATA_CSUM);
        bool is64 = sb.HasIncompat(Ext4Features.INCOMPAT_64BIT);
        var writer = new JournalWriter(device, file, jsbBlock, jsb, csumV3, is64, maxPendingBlocks);
        if (jsb.s_start != 0)
        {
            // A live log on a file system that is not marked needs_recovery (power lost between
            // the journal going live and the superblock saying so): its transactions were never
            // meant to be replayed. As the kernel (ext4_load_journal -> jbd2_journal_wipe ->
            // jbd2_journal_skip_recovery), the log is discarded and numbering continues after
            // its last transaction, so no stale block can pass for a new one.
            var scan = new JournalRecovery(jsb, file, sb.s_blocks_count);
            scan.ScanOnly();
            writer._nextTid = scan.EndTransaction + 1;
            writer.Discarded = $"transactions {jsb.s_sequence}..{scan.EndTransaction - 1}";
        }

        return writer;
    }

    /// <summary>Set when <see cref="Open"/> discarded a live log that the file system did not ask to replay (names its transactions).</summary>
    public string? Discarded { get; private set; }

    /// <summary>
    /// Before the first commit of a mount (jbd2: journal_reset, then the JBD2_FLUSHED superblock
    /// update of the first commit): sets the features this writer uses as ext4 asks jbd2 to
    /// (csum v3 with metadata_csum and no other checksum, 64bit with a 64bit file system, revoke),
    /// points s_start at the first log block with s_sequence the next transaction, writes the
    /// journal superblock and flushes. From then on the journal is live: the file system must be
    /// marked needs_recovery before any transaction can reach the log.
    /// </summary>
    public void Start()
    {
        if (_started)
        {
            return;
        }

        uint incompat = BinaryPrimitives.ReadUInt32BigEndian(_jsbBlock.AsSpan(L.s_feature_incompat));
        uint compat = BinaryPrimitives.ReadUInt32BigEndian(_jsbBlock.AsSpan(L.s_feature_compat));
        incompat &= ~(L.JBD2_FEATURE_INCOMPAT_CSUM_V2 | L.JBD2_FEATURE_INCOMPAT_CSUM_V3 | L.JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT | L.JBD2_FEATURE_INCOMPAT_64BIT);
        compat &= ~L.JBD2_FEATURE_COMPAT_CHECKSUM;
        incompat |= L.JBD2_FEATURE_INCOMPAT_REVOKE;
        if (_csumV3)
        {
            incompat |= L.JBD2_FEATURE_INCOMPAT_CSUM_V3;
            _jsbBlock[L.s_checksum_type] = L.JBD2_CRC32C_CHKSUM;
        }

        if (_is64)
        {
            incompat |= L.JBD2_FEATURE_INCOMPAT_64BIT;
        }

        BinaryPrimitives.WriteUInt32BigEndian(_jsbBlock.AsSpan(L.s_feature_incompat), incompat);
        BinaryPrimitives.WriteUInt32BigEndian(_jsbBlock.AsSpan(L.s_feature_compat), compat);
        NeutralizeFastCommitArea();
        WriteJournalSuperblock(_first, _nextTid);
        _started = true;
    }

    /// <summary>
    /// Commits one transaction: <paramref name="blocks"/> (file-system block, newest version; each
    /// block at most once) and <paramref name="freed"/> (blocks freed by it, sorted by start).
    /// Makes room first by checkpointing when the log lacks space. When this returns, the
    /// transaction is durable. <paramref name="cleaned"/> is told of every block a checkpoint
    /// wrote home. Returns false, writing nothing, when the transaction is larger than the whole
    /// log (the caller must then write it another way).
    /// Throws <see cref="Ext4IOException"/>; the journal is then unusable (the caller aborts it).
    /// </summary>
    public bool Commit(List<(ulong Block, byte[] Data)> blocks, List<(ulong Start, uint Count)> freed, Action<ulong, byte[]> cleaned)
    {
        if (!_started)
        {
            throw new InvalidOperationException("the journal was not started");
        }

        var revokes = Revokes(freed);
        if (blocks.Count == 0 && revokes.Count == 0)
        {
            return true;
        }

        uint needed = (uint)(RevokeBlocksFor(revokes.Count) + DescriptorBlocksFor(blocks.Count) + blocks.Count + 1);
        if (needed >= Capacity)
        {
            return false;
        }

        // One block of slack: the block after a commit must never be the tail's first block.
        if (needed >= Capacity - _used)
        {
            Checkpoint(cleaned);
        }

        uint tid = _nextTid;
        uint start = _head;
        int logBlocks = WriteTransaction(tid, start, blocks, revokes);
        _device.Flush();

        byte[] commit = BuildCommitBlock(tid);
        WriteLog(Advance(start, (uint)logBlocks), commit, 1);
        _device.Flush();

        _head = Advance(start, (uint)logBlocks + 1);
        _used += (uint)logBlocks + 1;
        _nextTid = tid + 1;
        foreach (ulong block in revokes)
        {
            _pending.Remove(block);
        }

        foreach (var (block, data) in blocks)
        {
            _pending[block] = data;
            _logged.Add(block);
        }

        if (_used > Capacity / 2 || _pending.Count > _maxPendingBlocks)
        {
            Checkpoint(cleaned);
        }

        return true;
    }

    /// <summary>
    /// Writes every committed block to its home location, flushes, then empties the log: the
    /// journal superblock's tail moves to the head (s_start = head, s_sequence = next
    /// transaction) and is flushed (jbd2_cleanup_journal_tail). Nothing to do with an empty log.
    /// </summary>
    public void Checkpoint(Action<ulong, byte[]> cleaned)
    {
        if (_used == 0)
        {
            return;
        }

        var home = _pending.OrderBy(static p => p.Key).ToList();
        foreach (var (block, data) in home)
        {
            _device.Write(checked((long)block * _blockSize), data);
        }

        _device.Flush();
        WriteJournalSuperblock(_head, _nextTid);
        _pending.Clear();
        _logged.Clear();
        _used = 0;
        foreach (var (block, data) in home)
        {
            cleaned(block, data);
        }
    }

    /// <summary>
    /// Clean unmount (jbd2_journal_destroy, jbd2_mark_journal_empty): checkpoints, then marks the
    /// journal empty (s_start 0, s_sequence the next transaction) and flushes. The caller then
    /// clears needs_recovery.
    /// </summary>
    public void Stop(Action<ulong, byte[]> cleaned)
    {
        if (!_started)
        {
            return;
        }

        Checkpoint(cleaned);
        WriteJournalSuperblock(0, _nextTid);
        _started = false;
    }

    /// <summary>The freed blocks that have a copy in the live log: each needs a revoke record (jbd2_journal_revoke).</summary>
    private List<ulong> Revokes(List<(ulong Start, uint Count)> freed)
    {
        var revokes = new List<ulong>();
        if (freed.Count == 0 || _logged.Count == 0)
        {
            return revokes;
        }

        foreach (ulong block in _logged)
        {
            // freed is sorted by start and its ranges never overlap (a block is freed once per generation).
            int lo = 0, hi = freed.Count - 1, found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                if (freed[mid].Start <= block)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            if (found >= 0 && block - freed[found].Start < freed[found].Count)
            {
                revokes.Add(block);
            }
        }

        revokes.Sort();
        return revokes;
    }

    /// <summary>Log block <paramref name="block"/> + <paramref name="count"/>, wrapped into [s_first, Last).</summary>
    private uint Advance(uint block, uint count)
    {
        ulong next = (ulong)block + count;
        ulong ring = _last - _first;
        if (next >= _last)
        {
            next = _first + ((next - _first) % ring);
        }

        return (uint)next;
    }

    /// <summary>Writes <paramref name="count"/> blocks of <paramref name="data"/> to the log from <paramref name="start"/>, one device write per physically contiguous run.</summary>
    private void WriteLog(uint start, byte[] data, int count)
    {
        int done = 0;
        uint at = start;
        while (done < count)
        {
            ulong physical = _file.Physical(at);
            int run = 1;
            while (done + run < count && at + (uint)run < _last && _file.Physical(at + (uint)run) == physical + (ulong)run)
            {
                run++;
            }

            _device.Write(checked((long)physical * _blockSize), data.AsSpan(done * _blockSize, run * _blockSize));
            done += run;
            at = Advance(at, (uint)run);
        }
    }

    /// <summary>Writes the journal superblock with <paramref name="start"/> and <paramref name="sequence"/>, re-sealed (csum v2/v3), and flushes.</summary>
    private void WriteJournalSuperblock(uint start, uint sequence)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_jsbBlock.AsSpan(L.s_start), start);
        BinaryPrimitives.WriteUInt32BigEndian(_jsbBlock.AsSpan(L.s_sequence), sequence);
        if (_csumV3)
        {
            BinaryPrimitives.WriteUInt32BigEndian(_jsbBlock.AsSpan(L.s_checksum), 0);
            uint c = Crc32c.Append(~0u, _jsbBlock.AsSpan(0, L.SuperblockSize));
            BinaryPrimitives.WriteUInt32BigEndian(_jsbBlock.AsSpan(L.s_checksum), c);
        }

        _device.Write(checked((long)_file.Physical(0) * _blockSize), _jsbBlock.AsSpan(0, L.SuperblockSize));
        _device.Flush();
    }

    /// <summary>
    /// With FAST_COMMIT the blocks after the log are the fast-commit area; this writer never
    /// writes fast commits, so a stale area head is zeroed once, before the first transaction, so
    /// that no replayer can take it for fast commits of a transaction this writer logs.
    /// </summary>
    private void NeutralizeFastCommitArea()
    {
        uint maxlen = BinaryPrimitives.ReadUInt32BigEndian(_jsbBlock.AsSpan(L.s_maxlen));
        if (_last >= maxlen)
        {
            return;
        }

        var block = new byte[_blockSize];
        _file.Read(_last, block);
        if (BinaryPrimitives.ReadUInt16LittleEndian(block) == L.EXT4_FC_TAG_HEAD)
        {
            Array.Clear(block);
            _device.Write(checked((long)_file.Physical(_last) * _blockSize), block);
        }
    }
}
