using System.Buffers.Binary;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Journal.JournalLayout;

namespace Safemount.Ext4.Journal;

/// <summary>
/// The log blocks a commit writes, byte for byte as jbd2 writes them (include/linux/jbd2.h;
/// fs/jbd2/commit.c jbd2_journal_commit_transaction, journal_submit_commit_record;
/// fs/jbd2/revoke.c write_one_revoke_record). Every field is big-endian; a fresh block is zero.
/// </summary>
internal sealed partial class JournalWriter
{
    private int TagBytes => _csumV3 ? L.Tag3Size : 8 + (_is64 ? 4 : 0);

    private int TailBytes => _csumV3 ? L.BlockTailSize : 0;

    /// <summary>Tags one descriptor block holds: the first is followed by the 16-byte journal uuid, the rest carry SAME_UUID.</summary>
    private int TagsPerDescriptor => 1 + ((_blockSize - L.HeaderSize - TailBytes - TagBytes - L.UuidSize) / TagBytes);

    private int RecordBytes => _is64 ? 8 : 4;

    private int RecordsPerRevokeBlock => (_blockSize - L.RevokeHeaderSize - TailBytes) / RecordBytes;

    private int DescriptorBlocksFor(int blocks) => (blocks + TagsPerDescriptor - 1) / TagsPerDescriptor;

    private int RevokeBlocksFor(int records) => (records + RecordsPerRevokeBlock - 1) / RecordsPerRevokeBlock;

    /// <summary>
    /// Writes transaction <paramref name="tid"/> without its commit block to the log from
    /// <paramref name="start"/>: revoke blocks first (jbd2 writes the revoke records before the
    /// metadata), then per descriptor block its tags and, after it, the logged copies in tag
    /// order. A copy whose first four bytes are JBD2_MAGIC_NUMBER is logged with them zeroed and
    /// its tag flagged ESCAPE; tag checksums (csum v3) cover the copy as logged. Blocks go out
    /// through the staging buffer, <see cref="StageBytes"/> at a time. Returns the log blocks
    /// written.
    /// </summary>
    private int WriteTransaction(uint tid, uint start, List<(ulong Block, byte[] Data)> blocks, List<ulong> revokes)
    {
        _stage ??= new byte[StageBlocks * _blockSize];
        _stageAt = start;
        _staged = 0;
        int count = RevokeBlocksFor(revokes.Count) + DescriptorBlocksFor(blocks.Count) + blocks.Count;

        int perRevoke = RecordsPerRevokeBlock;
        for (int i = 0; i < revokes.Count; i += perRevoke)
        {
            var block = NextLogBlock();
            WriteHeader(block, L.JBD2_REVOKE_BLOCK, tid);
            int n = Math.Min(perRevoke, revokes.Count - i);
            int p = L.RevokeHeaderSize;
            for (int k = 0; k < n; k++, p += RecordBytes)
            {
                if (_is64)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(block[p..], revokes[i + k]);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32BigEndian(block[p..], (uint)revokes[i + k]);
                }
            }

            BinaryPrimitives.WriteUInt32BigEndian(block[L.r_count..], (uint)p);
            SealTail(block);
        }

        int perDescriptor = TagsPerDescriptor;
        int tagBytes = TagBytes;

        // jbd2_block_tag_csum_set: crc32c(seed, be32 tid, logged copy).
        Span<byte> seq = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(seq, tid);
        uint tidSeed = Crc32c.Append(_csumSeed, seq);
        for (int i = 0; i < blocks.Count; i += perDescriptor)
        {
            // The descriptor is complete before its copies are staged (the stage may be written
            // out between them), so tags and checksums are computed from the cached versions.
            int n = Math.Min(perDescriptor, blocks.Count - i);
            var descriptor = NextLogBlock();
            WriteHeader(descriptor, L.JBD2_DESCRIPTOR_BLOCK, tid);
            int p = L.HeaderSize;
            for (int k = 0; k < n; k++)
            {
                var (fsBlock, data) = blocks[i + k];
                bool escape = IsEscaped(data);
                ushort flags = escape ? L.JBD2_FLAG_ESCAPE : (ushort)0;
                if (k != 0)
                {
                    flags |= L.JBD2_FLAG_SAME_UUID;
                }

                if (k == n - 1)
                {
                    flags |= L.JBD2_FLAG_LAST_TAG;
                }

                var tag = descriptor.Slice(p, tagBytes);
                BinaryPrimitives.WriteUInt32BigEndian(tag[L.t_blocknr..], (uint)fsBlock);
                BinaryPrimitives.WriteUInt16BigEndian(tag[L.t_flags16..], flags);
                if (_is64)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(tag[L.t_blocknr_high..], (uint)(fsBlock >> 32));
                }

                if (_csumV3)
                {
                    // The logged copy of an escaped block starts with four zero bytes.
                    uint c = escape
                        ? Crc32c.Append(Crc32c.AppendZeros(tidSeed, 4), data.AsSpan(4, _blockSize - 4))
                        : Crc32c.Append(tidSeed, data.AsSpan(0, _blockSize));
                    BinaryPrimitives.WriteUInt32BigEndian(tag[L.t_checksum32..], c);
                }

                p += tagBytes;
                if (k == 0)
                {
                    _uuid.CopyTo(descriptor[p..]);
                    p += L.UuidSize;
                }
            }

            SealTail(descriptor);
            for (int k = 0; k < n; k++)
            {
                byte[] data = blocks[i + k].Data;
                var copy = NextLogBlock();
                data.AsSpan(0, _blockSize).CopyTo(copy);
                if (IsEscaped(data))
                {
                    copy[..4].Clear();
                }
            }
        }

        FlushStage();
        return count;
    }

    /// <summary>True when <paramref name="data"/> would pass for a journal block (JBD2_MAGIC_NUMBER first): it is logged escaped.</summary>
    private static bool IsEscaped(byte[] data) => BinaryPrimitives.ReadUInt32BigEndian(data) == L.JBD2_MAGIC_NUMBER;

    /// <summary>The next log block in the staging buffer, zeroed; writes the buffer out first when it is full.</summary>
    private Span<byte> NextLogBlock()
    {
        if (_staged == StageBlocks)
        {
            FlushStage();
        }

        var block = _stage.AsSpan(_staged * _blockSize, _blockSize);
        block.Clear();
        _staged++;
        return block;
    }

    /// <summary>Writes the staged log blocks at <see cref="_stageAt"/> and moves it past them.</summary>
    private void FlushStage()
    {
        if (_staged == 0)
        {
            return;
        }

        WriteLog(_stageAt, _stage!, _staged);
        _stageAt = Advance(_stageAt, (uint)_staged);
        _staged = 0;
    }

    /// <summary>The commit block of <paramref name="tid"/>: commit time, and with csum v3 h_chksum[0] = crc32c(seed, block with it zero), type and size fields zero.</summary>
    private byte[] BuildCommitBlock(uint tid)
    {
        var block = new byte[_blockSize];
        WriteHeader(block, L.JBD2_COMMIT_BLOCK, tid);
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        BinaryPrimitives.WriteUInt64BigEndian(block.AsSpan(L.h_commit_sec), (ulong)(ticks / TimeSpan.TicksPerSecond));
        BinaryPrimitives.WriteUInt32BigEndian(block.AsSpan(L.h_commit_nsec), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
        if (_csumV3)
        {
            uint c = Crc32c.Append(_csumSeed, block);
            BinaryPrimitives.WriteUInt32BigEndian(block.AsSpan(L.h_chksum), c);
        }

        return block;
    }

    private static void WriteHeader(Span<byte> block, uint type, uint tid)
    {
        BinaryPrimitives.WriteUInt32BigEndian(block[L.h_magic..], L.JBD2_MAGIC_NUMBER);
        BinaryPrimitives.WriteUInt32BigEndian(block[L.h_blocktype..], type);
        BinaryPrimitives.WriteUInt32BigEndian(block[L.h_sequence..], tid);
    }

    /// <summary>jbd2_descriptor_block_csum_set: crc32c(seed, block with the tail zero) in the last 4 bytes (csum v3 only).</summary>
    private void SealTail(Span<byte> block)
    {
        if (!_csumV3)
        {
            return;
        }

        int at = _blockSize - L.BlockTailSize;
        block[at..].Clear();
        BinaryPrimitives.WriteUInt32BigEndian(block[at..], Crc32c.Append(_csumSeed, block));
    }
}
