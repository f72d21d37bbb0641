using System.Buffers.Binary;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Journal.JournalLayout;

namespace Safemount.Ext4.Journal;

/// <summary>
/// Reads a dirty jbd2 log and works out what replay must write, without writing anything
/// (fs/jbd2/recovery.c is the specification; e2fsprogs e2fsck/recovery.c is the same code).
///
/// Three passes walk the circular log [s_first, Last) from s_start, expecting transaction
/// s_sequence first; a block belongs to the log while it carries JBD2_MAGIC_NUMBER and the
/// expected sequence:
///   SCAN   finds the end: the first transaction whose commit block is missing or fails its
///          checksum (v1 crc32_be over descriptor and data blocks, or v2/v3 crc32c of the
///          commit block). A bad commit checksum ends the log; without async_commit it also
///          marks the transaction as a failed commit, which the kernel refuses to mount. A bad
///          descriptor/revoke tail checksum is stale data if the next commit block is older
///          than the last good one, corruption otherwise.
///   REVOKE collects (block, newest revoking transaction) from the revoke blocks.
///   REPLAY maps every tag to its data block, skips blocks revoked by a transaction at or
///          after the tag's, verifies v2/v3 tag checksums, and records the newest copy per
///          file-system block.
/// Unlike the kernel, nothing is written until all three passes succeeded: a tag checksum
/// failure or a pass that ends elsewhere than SCAN did refuses the whole replay, so a refused
/// journal never leaves a half-replayed device.
///
/// Bounds: every pass walks at most the log length in blocks (a log cannot be longer than the
/// ring), tags are parsed only inside their descriptor block, revoke records only inside
/// r_count, which must fit its block. Memory: the plan has at most one entry per journal block
/// walked, the revoke table at most one per revoke record read.
/// </summary>
internal sealed class JournalRecovery
{
    private readonly JournalSuperblock _jsb;
    private readonly JournalFile _file;
    private readonly ulong _fsBlocks;
    private readonly int _blockSize;
    private readonly Dictionary<ulong, uint> _revoked = new();           // fs block -> newest revoking tid
    private readonly Dictionary<ulong, ReplaySource> _plan = new();      // fs block -> newest logged copy
    private bool _endKnown;

    /// <param name="fsBlocks">s_blocks_count: every replayed block must lie below it.</param>
    public JournalRecovery(JournalSuperblock jsb, JournalFile file, ulong fsBlocks)
    {
        _jsb = jsb;
        _file = file;
        _fsBlocks = fsBlocks;
        _blockSize = (int)jsb.s_blocksize;
    }

    /// <summary>First transaction of the log (s_sequence).</summary>
    public uint StartTransaction => _jsb.s_sequence;

    /// <summary>First transaction NOT replayed (info->end_transaction after SCAN).</summary>
    public uint EndTransaction { get; private set; }

    /// <summary>File-system blocks to write and where their newest copies are.</summary>
    public IReadOnlyDictionary<ulong, ReplaySource> Plan => _plan;

    /// <summary>Tags replayed (a block logged twice counts twice, as in the kernel's nr_replays).</summary>
    public int Replays { get; private set; }

    /// <summary>Revoke records read (nr_revokes).</summary>
    public int Revokes { get; private set; }

    /// <summary>Tags skipped because a later-or-equal transaction revoked their block (nr_revoke_hits).</summary>
    public int RevokeHits { get; private set; }

    /// <summary>
    /// Nonzero (j_failed_commit) when a commit block failed its checksum without async_commit,
    /// or, with v1 checksums, a commit block follows an async transaction that failed: the
    /// kernel refuses to load such a journal after replaying what came before.
    /// </summary>
    public uint FailedCommit { get; private set; }

    /// <summary>Runs SCAN, REVOKE and REPLAY. Throws <see cref="Ext4CorruptionException"/> (or its checksum subtype) or <see cref="Ext4MountException"/>.</summary>
    public void Run()
    {
        Pass(JournalPass.Scan);
        Pass(JournalPass.Revoke);
        Pass(JournalPass.Replay);
    }

    /// <summary>
    /// SCAN only (jbd2_journal_skip_recovery): finds <see cref="EndTransaction"/>, the first
    /// transaction not in the log, so that a writer that discards the log can continue after it.
    /// </summary>
    public void ScanOnly() => Pass(JournalPass.Scan);

    private static bool TidGreater(uint x, uint y) => (int)(x - y) > 0;

    private static bool TidGreaterOrEqual(uint x, uint y) => (int)(x - y) >= 0;

    private static uint Be32(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt32BigEndian(b[offset..]);

    /// <summary>Log block <paramref name="block"/> + <paramref name="count"/>, wrapped into [s_first, Last).</summary>
    private uint Advance(uint block, uint count)
    {
        ulong next = (ulong)block + count;
        ulong first = _jsb.s_first;
        ulong ring = _jsb.Last - first;
        if (next >= _jsb.Last)
        {
            next = first + ((next - first) % ring);
        }

        return (uint)next;
    }

    private void Pass(JournalPass pass)
    {
        uint nextCommitId = _jsb.s_sequence;
        uint next = _jsb.s_start;
        uint ring = _jsb.Last - _jsb.s_first;
        long walked = 0;                         // log blocks consumed by this pass; never more than the ring
        uint crc32Sum = ~0u;                     // v1 running checksum of the current transaction
        bool needCheckCommitTime = false;        // a descriptor/revoke tail checksum failed in SCAN
        ulong lastCommitTime = 0;
        bool tagChecksumFailed = false;
        string? tagFailure = null;
        var block = new byte[_blockSize];
        var data = new byte[_blockSize];
        int tail = _jsb.HasCsumV2OrV3 ? L.BlockTailSize : 0;

        while (true)
        {
            if (pass != JournalPass.Scan && TidGreaterOrEqual(nextCommitId, EndTransaction))
            {
                break;
            }

            uint here = next;
            _file.Read(here, block);
            next = Advance(next, 1);

            if (Be32(block, L.h_magic) != L.JBD2_MAGIC_NUMBER || Be32(block, L.h_sequence) != nextCommitId)
            {
                break;
            }

            // Only blocks that belong to the log count: the read that ends it may revisit s_start.
            if (++walked > ring)
            {
                throw new Ext4CorruptionException(
                    $"journal log does not end within its {ring} blocks (transaction {nextCommitId}, {pass} pass)");
            }

            uint type = Be32(block, L.h_blocktype);
            if (type == L.JBD2_DESCRIPTOR_BLOCK)
            {
                if (tail != 0 && !TailChecksumOk(block))
                {
                    // SCAN may meet stale blocks of an older log generation; judged at the next commit block.
                    if (pass != JournalPass.Scan)
                    {
                        throw new Ext4ChecksumException(
                            $"journal descriptor block {here} of transaction {nextCommitId} fails its checksum");
                    }

                    needCheckCommitTime = true;
                }

                int tags = CountTags(block, tail);
                walked += tags;
                if (walked > ring)
                {
                    throw new Ext4CorruptionException(
                        $"journal log does not end within its {ring} blocks (transaction {nextCommitId}, {pass} pass)");
                }

                if (pass == JournalPass.Replay)
                {
                    next = ReplayTags(block, tail, next, nextCommitId, data, ref tagChecksumFailed, ref tagFailure);
                    continue;
                }

                if (pass == JournalPass.Scan && _jsb.HasChecksumV1 && !needCheckCommitTime && !_endKnown)
                {
                    crc32Sum = Crc32Be.Append(crc32Sum, block);
                    for (int i = 0; i < tags; i++)
                    {
                        _file.Read(next, data);
                        next = Advance(next, 1);
                        crc32Sum = Crc32Be.Append(crc32Sum, data);
                    }

                    continue;
                }

                next = Advance(next, (uint)tags);
                continue;
            }

            if (type == L.JBD2_COMMIT_BLOCK)
            {
                ulong commitTime = BinaryPrimitives.ReadUInt64BigEndian(block.AsSpan(L.h_commit_sec));
                if (needCheckCommitTime)
                {
                    if (commitTime >= lastCommitTime)
                    {
                        throw new Ext4ChecksumException(
                            $"journal transaction {nextCommitId} has a descriptor or revoke block that fails its checksum");
                    }

                    // An older commit than the last good one: stale blocks of a previous log; the log ends here.
                    break;
                }

                if (pass == JournalPass.Scan)
                {
                    bool bad = false;
                    if (_jsb.HasChecksumV1)
                    {
                        if (_endKnown)
                        {
                            // A commit after an async transaction whose checksum failed.
                            FailedCommit = EndTransaction;
                            break;
                        }

                        uint found = Be32(block, L.h_chksum);
                        byte ctype = block[L.h_chksum_type];
                        byte csize = block[L.h_chksum_size];
                        bool match = crc32Sum == found && ctype == L.JBD2_CRC32_CHKSUM && csize == L.JBD2_CRC32_CHKSUM_SIZE;
                        bool unused = ctype == 0 && csize == 0 && found == 0;
                        bad = !match && !unused;
                        crc32Sum = ~0u;
                    }

                    if (!bad && _jsb.HasCsumV2OrV3 && !CommitChecksumOk(block))
                    {
                        bad = true;
                    }

                    if (bad)
                    {
                        if (commitTime < lastCommitTime)
                        {
                            break;      // stale commit block of an older log generation
                        }

                        // The log ends before the first transaction with a bad commit. (With
                        // async_commit the kernel keeps scanning and would move the end to a
                        // later bad commit, replaying the earlier bad transaction; the engine
                        // never replays a transaction whose commit block failed its checksum.)
                        if (!_endKnown)
                        {
                            EndTransaction = nextCommitId;
                            _endKnown = true;
                        }

                        if (!_jsb.HasIncompat(L.JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT))
                        {
                            FailedCommit = nextCommitId;
                            break;
                        }
                    }

                    lastCommitTime = commitTime;
                }

                nextCommitId++;
                continue;
            }

            if (type == L.JBD2_REVOKE_BLOCK)
            {
                if (pass == JournalPass.Scan && tail != 0 && !TailChecksumOk(block))
                {
                    needCheckCommitTime = true;
                }

                if (pass == JournalPass.Revoke)
                {
                    ScanRevokeRecords(block, tail, nextCommitId, here);
                }

                continue;
            }

            // Any other block type ends the log.
            break;
        }

        if (pass == JournalPass.Scan)
        {
            if (!_endKnown)
            {
                EndTransaction = nextCommitId;
                _endKnown = true;
            }

            return;
        }

        if (EndTransaction != nextCommitId)
        {
            throw new Ext4CorruptionException(
                $"journal {pass} pass ended at transaction {nextCommitId}, the scan at {EndTransaction}");
        }

        if (tagChecksumFailed)
        {
            throw new Ext4ChecksumException(tagFailure!);
        }
    }

    /// <summary>count_tags: tags in a descriptor block, each followed by a 16-byte uuid unless SAME_UUID, up to LAST_TAG or the tail.</summary>
    private int CountTags(ReadOnlySpan<byte> block, int tail)
    {
        int tagBytes = _jsb.TagBytes;
        int limit = _blockSize - tail;
        int p = L.HeaderSize;
        int n = 0;
        while (p + tagBytes <= limit)
        {
            ushort flags = BinaryPrimitives.ReadUInt16BigEndian(block[(p + L.t_flags16)..]);
            n++;
            p += tagBytes;
            if ((flags & L.JBD2_FLAG_SAME_UUID) == 0)
            {
                p += L.UuidSize;
            }

            if ((flags & L.JBD2_FLAG_LAST_TAG) != 0)
            {
                break;
            }
        }

        return n;
    }

    /// <summary>Walks the tags of one descriptor block in the REPLAY pass; returns the log block after its data blocks.</summary>
    private uint ReplayTags(byte[] block, int tail, uint next, uint tid, byte[] data, ref bool failed, ref string? failure)
    {
        int tagBytes = _jsb.TagBytes;
        int limit = _blockSize - tail;
        int p = L.HeaderSize;
        while (p + tagBytes <= limit)
        {
            var tag = block.AsSpan(p, tagBytes);
            ushort flags = BinaryPrimitives.ReadUInt16BigEndian(tag[L.t_flags16..]);
            uint ioBlock = next;
            next = Advance(next, 1);

            ulong target = Be32(tag, L.t_blocknr);
            if (_jsb.Is64Bit)
            {
                target |= (ulong)Be32(tag, L.t_blocknr_high) << 32;
            }

            if (_revoked.TryGetValue(target, out uint revokedBy) && !TidGreater(tid, revokedBy))
            {
                RevokeHits++;
            }
            else
            {
                _file.Read(ioBlock, data);
                if (!TagChecksumOk(tag, data, tid))
                {
                    // The kernel replays the other blocks and fails at the end; we refuse the whole replay.
                    failed = true;
                    failure ??= $"journal block {ioBlock} (file-system block {target}, transaction {tid}) fails its tag checksum";
                }
                else if (target >= _fsBlocks)
                {
                    throw new Ext4CorruptionException(
                        $"journal transaction {tid} logs block {target}, beyond the file system ({_fsBlocks} blocks)");
                }
                else
                {
                    _plan[target] = new ReplaySource(ioBlock, (flags & L.JBD2_FLAG_ESCAPE) != 0);
                    Replays++;
                }
            }

            p += tagBytes;
            if ((flags & L.JBD2_FLAG_SAME_UUID) == 0)
            {
                p += L.UuidSize;
            }

            if ((flags & L.JBD2_FLAG_LAST_TAG) != 0)
            {
                break;
            }
        }

        return next;
    }

    /// <summary>
    /// scan_revoke_records: r_count bytes (header included, at most the block less its tail) of
    /// 4-byte or, with 64bit, 8-byte block numbers; each keeps the newest revoking transaction.
    /// </summary>
    private void ScanRevokeRecords(ReadOnlySpan<byte> block, int tail, uint tid, uint here)
    {
        uint count = Be32(block, L.r_count);
        if (count > (uint)(_blockSize - tail))
        {
            throw new Ext4CorruptionException(
                $"journal revoke block {here} of transaction {tid} claims {count} bytes of records in a {_blockSize}-byte block");
        }

        int recordLen = _jsb.Is64Bit ? 8 : 4;
        int max = (int)count;
        for (int p = L.RevokeHeaderSize; p + recordLen <= max; p += recordLen)
        {
            ulong target = recordLen == 8
                ? BinaryPrimitives.ReadUInt64BigEndian(block[p..])
                : Be32(block, p);
            if (!_revoked.TryGetValue(target, out uint existing) || TidGreater(tid, existing))
            {
                _revoked[target] = tid;
            }

            Revokes++;
        }
    }

    /// <summary>jbd2_journal_block_tail: crc32c(j_csum_seed, block with t_checksum zero) in the last 4 bytes.</summary>
    private bool TailChecksumOk(ReadOnlySpan<byte> block)
    {
        int at = _blockSize - L.BlockTailSize;
        uint c = Crc32c.Append(_jsb.CsumSeed, block[..at]);
        c = Crc32c.AppendZeros(c, L.BlockTailSize);
        return c == Be32(block, at);
    }

    /// <summary>Commit block v2/v3: crc32c(j_csum_seed, block with h_chksum[0] zero) in h_chksum[0].</summary>
    private bool CommitChecksumOk(ReadOnlySpan<byte> block)
    {
        uint c = Crc32c.Append(_jsb.CsumSeed, block[..L.h_chksum]);
        c = Crc32c.AppendZeros(c, 4);
        c = Crc32c.Append(c, block[(L.h_chksum + 4).._blockSize]);
        return c == Be32(block, L.h_chksum);
    }

    /// <summary>Tag checksum: crc32c(j_csum_seed, be32 tid, data block); v3 stores 32 bits, v2 the low 16.</summary>
    private bool TagChecksumOk(ReadOnlySpan<byte> tag, ReadOnlySpan<byte> data, uint tid)
    {
        if (!_jsb.HasCsumV2OrV3)
        {
            return true;
        }

        Span<byte> seq = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(seq, tid);
        uint c = Crc32c.Append(_jsb.CsumSeed, seq);
        c = Crc32c.Append(c, data[.._blockSize]);
        return _jsb.HasCsumV3
            ? Be32(tag, L.t_checksum32) == c
            : BinaryPrimitives.ReadUInt16BigEndian(tag[L.t_checksum16..]) == (ushort)c;
    }
}
