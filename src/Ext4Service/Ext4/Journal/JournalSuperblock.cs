using System.Buffers.Binary;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Journal.JournalLayout;

namespace Safemount.Ext4.Journal;

/// <summary>
/// Decoded and validated journal_superblock_t (journal block 0). Validation follows the
/// kernel's journal_load checks (fs/jbd2/journal.c): magic and block type, block size equal
/// to the file system's, s_maxlen within the journal inode, s_first inside the log, known
/// incompat features only, no v1 checksums together with v2/v3, superblock checksum with
/// v2/v3. With a v1 superblock the feature fields are ignored (they did not exist).
/// </summary>
internal sealed class JournalSuperblock
{
    private JournalSuperblock()
    {
    }

    /// <summary>s_blocktype: JBD2_SUPERBLOCK_V1 or V2.</summary>
    public uint BlockType { get; private init; }

    public uint s_blocksize { get; private init; }
    public uint s_maxlen { get; private init; }
    public uint s_first { get; private init; }
    public uint s_sequence { get; private init; }
    public uint s_start { get; private init; }
    public int s_errno { get; private init; }
    public uint s_feature_compat { get; private init; }
    public uint s_feature_incompat { get; private init; }
    public byte[] s_uuid { get; private init; } = [];

    /// <summary>One past the last block of the circular log (j_last): s_maxlen less the fast-commit area.</summary>
    public uint Last { get; private init; }

    /// <summary>j_csum_seed: crc32c(~0, s_uuid); seeds descriptor, revoke, commit and tag checksums.</summary>
    public uint CsumSeed { get; private init; }

    public bool HasIncompat(uint f) => (s_feature_incompat & f) != 0;

    /// <summary>CSUM_V2 or CSUM_V3: descriptor/revoke tails, commit and tag checksums are present.</summary>
    public bool HasCsumV2OrV3 => HasIncompat(L.JBD2_FEATURE_INCOMPAT_CSUM_V2 | L.JBD2_FEATURE_INCOMPAT_CSUM_V3);

    public bool HasCsumV3 => HasIncompat(L.JBD2_FEATURE_INCOMPAT_CSUM_V3);

    /// <summary>COMPAT_CHECKSUM: v1 crc32_be commit checksums over each transaction's blocks.</summary>
    public bool HasChecksumV1 => (s_feature_compat & L.JBD2_FEATURE_COMPAT_CHECKSUM) != 0;

    public bool Is64Bit => HasIncompat(L.JBD2_FEATURE_INCOMPAT_64BIT);

    /// <summary>journal_tag_bytes: 16 with csum v3; else 8, +4 with 64bit, +2 with csum v2.</summary>
    public int TagBytes
    {
        get
        {
            if (HasCsumV3)
            {
                return L.Tag3Size;
            }

            int size = 8;
            if (Is64Bit)
            {
                size += 4;
            }

            if (HasIncompat(L.JBD2_FEATURE_INCOMPAT_CSUM_V2))
            {
                size += 2;
            }

            return size;
        }
    }

    /// <summary>
    /// Parses journal block 0. <paramref name="fsBlockSize"/> is the ext4 block size,
    /// <paramref name="inodeBlocks"/> the journal inode's size in blocks. Throws
    /// <see cref="Ext4MountException"/> naming the problem.
    /// </summary>
    public static JournalSuperblock Parse(ReadOnlySpan<byte> b, uint fsBlockSize, ulong inodeBlocks)
    {
        if (b.Length < L.SuperblockSize)
        {
            throw new ArgumentException($"journal superblock needs {L.SuperblockSize} bytes", nameof(b));
        }

        uint magic = U32(b, L.h_magic);
        uint type = U32(b, L.h_blocktype);
        if (magic != L.JBD2_MAGIC_NUMBER || (type != L.JBD2_SUPERBLOCK_V1 && type != L.JBD2_SUPERBLOCK_V2))
        {
            throw new Ext4MountException($"journal superblock is invalid (magic 0x{magic:x8}, block type {type})");
        }

        bool v2 = type == L.JBD2_SUPERBLOCK_V2;
        uint compat = v2 ? U32(b, L.s_feature_compat) : 0;
        uint incompat = v2 ? U32(b, L.s_feature_incompat) : 0;
        uint unknown = incompat & ~L.KnownIncompat;
        if (unknown != 0)
        {
            throw new Ext4MountException($"journal has unsupported incompat feature 0x{unknown:x}");
        }

        var uuid = b.Slice(L.s_uuid, 16).ToArray();
        var sb = new JournalSuperblock
        {
            BlockType = type,
            s_blocksize = U32(b, L.s_blocksize),
            s_maxlen = U32(b, L.s_maxlen),
            s_first = U32(b, L.s_first),
            s_sequence = U32(b, L.s_sequence),
            s_start = U32(b, L.s_start),
            s_errno = (int)U32(b, L.s_errno),
            s_feature_compat = compat,
            s_feature_incompat = incompat,
            s_uuid = uuid,
            CsumSeed = Crc32c.Append(~0u, uuid),
        };

        if (sb.HasCsumV2OrV3)
        {
            if (sb.HasChecksumV1)
            {
                throw new Ext4MountException("journal has both v1 and v2/v3 checksums enabled");
            }

            if (b[L.s_checksum_type] != L.JBD2_CRC32C_CHKSUM)
            {
                throw new Ext4MountException($"journal superblock has unknown checksum type {b[L.s_checksum_type]}");
            }

            uint stored = U32(b, L.s_checksum);
            uint computed = Crc32c.Append(~0u, b[..L.s_checksum]);
            computed = Crc32c.AppendZeros(computed, 4);
            computed = Crc32c.Append(computed, b[(L.s_checksum + 4)..L.SuperblockSize]);
            if (stored != computed)
            {
                throw new Ext4MountException(
                    $"journal superblock checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
            }
        }

        if (sb.s_blocksize != fsBlockSize)
        {
            throw new Ext4MountException(
                $"journal block size {sb.s_blocksize} differs from the file system block size {fsBlockSize}");
        }

        if (sb.s_maxlen < L.JBD2_MIN_JOURNAL_BLOCKS)
        {
            throw new Ext4MountException($"journal is too short (s_maxlen {sb.s_maxlen} blocks)");
        }

        if (sb.s_maxlen > inodeBlocks)
        {
            throw new Ext4MountException(
                $"journal superblock claims {sb.s_maxlen} blocks but the journal inode holds only {inodeBlocks}");
        }

        uint last = sb.s_maxlen;
        if (sb.HasIncompat(L.JBD2_FEATURE_INCOMPAT_FAST_COMMIT))
        {
            uint fc = U32(b, L.s_num_fc_blks);
            if (fc == 0)
            {
                fc = L.JBD2_DEFAULT_FAST_COMMIT_BLOCKS;
            }

            if (fc >= sb.s_maxlen || sb.s_maxlen - fc < L.JBD2_MIN_JOURNAL_BLOCKS)
            {
                throw new Ext4MountException(
                    $"journal fast-commit area of {fc} blocks leaves too short a log (s_maxlen {sb.s_maxlen})");
            }

            last = sb.s_maxlen - fc;
        }

        if (sb.s_first == 0 || sb.s_first >= last)
        {
            throw new Ext4MountException($"journal log start s_first {sb.s_first} is outside the journal (1..{last - 1})");
        }

        if (sb.s_start != 0 && (sb.s_start < sb.s_first || sb.s_start >= last))
        {
            throw new Ext4MountException(
                $"journal head s_start {sb.s_start} is outside the log ({sb.s_first}..{last - 1})");
        }

        return new JournalSuperblock
        {
            BlockType = sb.BlockType,
            s_blocksize = sb.s_blocksize,
            s_maxlen = sb.s_maxlen,
            s_first = sb.s_first,
            s_sequence = sb.s_sequence,
            s_start = sb.s_start,
            s_errno = sb.s_errno,
            s_feature_compat = sb.s_feature_compat,
            s_feature_incompat = sb.s_feature_incompat,
            s_uuid = sb.s_uuid,
            CsumSeed = sb.CsumSeed,
            Last = last,
        };
    }

    private static uint U32(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt32BigEndian(b[offset..]);
}
