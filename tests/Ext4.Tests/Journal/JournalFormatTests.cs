using System.Buffers.Binary;
using Safemount.Ext4.Format;
using Safemount.Ext4.Journal;
using L = Safemount.Ext4.Journal.JournalLayout;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// Pinned journal layout (include/linux/jbd2.h), the journal_tag_bytes table, the crc32_be
/// convention, and the journal superblock checks, on synthetic superblocks.
/// </summary>
public class JournalFormatTests
{
    [Test]
    public void LayoutOffsetsArePinned()
    {
        Assert.Multiple(() =>
        {
            Assert.That(L.HeaderSize, Is.EqualTo(12));
            Assert.That(L.s_blocksize, Is.EqualTo(0x0C));
            Assert.That(L.s_start, Is.EqualTo(0x1C));
            Assert.That(L.s_feature_incompat, Is.EqualTo(0x28));
            Assert.That(L.s_uuid, Is.EqualTo(0x30));
            Assert.That(L.s_checksum_type, Is.EqualTo(0x50));
            Assert.That(L.s_num_fc_blks, Is.EqualTo(0x54));
            Assert.That(L.s_checksum, Is.EqualTo(0xFC));
            Assert.That(L.SuperblockSize, Is.EqualTo(1024));           // s_users[16*48] ends at 0x400
            Assert.That(L.h_chksum, Is.EqualTo(0x10));
            Assert.That(L.h_commit_sec, Is.EqualTo(0x30));             // after h_chksum[8]
            Assert.That(L.RevokeHeaderSize, Is.EqualTo(16));
            Assert.That(L.Tag3Size, Is.EqualTo(16));
        });
    }

    /// <summary>journal_tag_bytes for every feature combination.</summary>
    [TestCase(0u, 8)]
    [TestCase(L.JBD2_FEATURE_INCOMPAT_64BIT, 12)]
    [TestCase(L.JBD2_FEATURE_INCOMPAT_CSUM_V2, 10)]
    [TestCase(L.JBD2_FEATURE_INCOMPAT_CSUM_V2 | L.JBD2_FEATURE_INCOMPAT_64BIT, 14)]
    [TestCase(L.JBD2_FEATURE_INCOMPAT_CSUM_V3, 16)]
    [TestCase(L.JBD2_FEATURE_INCOMPAT_CSUM_V3 | L.JBD2_FEATURE_INCOMPAT_64BIT, 16)]
    public void TagBytes(uint incompat, int expected)
    {
        var jsb = JournalSuperblock.Parse(Superblock(incompat), 4096, 4096);
        Assert.That(jsb.TagBytes, Is.EqualTo(expected));
    }

    [Test]
    public void Crc32BeMatchesTheMpeg2CheckValue()
    {
        // CRC-32/MPEG-2 is crc32_be with init ~0 and no final xor: check value 0x0376E6E7.
        Assert.That(Crc32Be.Append(~0u, "123456789"u8), Is.EqualTo(0x0376E6E7u));
    }

    [Test]
    public void SuperblockChecks()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Refusal(Superblock(0), fsBlockSize: 1024), Is.EqualTo("journal block size 4096 differs from the file system block size 1024"));
            Assert.That(Refusal(Superblock(0x400)), Is.EqualTo("journal has unsupported incompat feature 0x400"));
            Assert.That(Refusal(Superblock(0), inodeBlocks: 1000), Is.EqualTo("journal superblock claims 4096 blocks but the journal inode holds only 1000"));
            Assert.That(Refusal(Superblock(0, maxlen: 1023)), Is.EqualTo("journal is too short (s_maxlen 1023 blocks)"));
            Assert.That(Refusal(Superblock(0, first: 0)), Is.EqualTo("journal log start s_first 0 is outside the journal (1..4095)"));
            Assert.That(Refusal(Superblock(0, start: 4096)), Is.EqualTo("journal head s_start 4096 is outside the log (1..4095)"));
            Assert.That(Refusal(Superblock(L.JBD2_FEATURE_INCOMPAT_FAST_COMMIT, start: 4000)), Is.EqualTo("journal head s_start 4000 is outside the log (1..3839)"));
            var bad = Superblock(L.JBD2_FEATURE_INCOMPAT_CSUM_V3);
            bad[0x200] ^= 1;
            Assert.That(Refusal(bad), Does.StartWith("journal superblock checksum mismatch"));
        });

        // A v1 superblock has no feature fields: whatever they hold is ignored.
        var v1 = Superblock(0x400);
        BinaryPrimitives.WriteUInt32BigEndian(v1.AsSpan(L.h_blocktype), L.JBD2_SUPERBLOCK_V1);
        Assert.That(JournalSuperblock.Parse(v1, 4096, 4096).s_feature_incompat, Is.Zero);
    }

    private static string Refusal(byte[] sb, uint fsBlockSize = 4096, ulong inodeBlocks = 4096) =>
        Assert.Throws<Ext4MountException>(() => JournalSuperblock.Parse(sb, fsBlockSize, inodeBlocks))!.Message;

    /// <summary>A v2 journal superblock of 4096 blocks of 4 KiB; sealed with a crc32c when csum v2/v3 is set.</summary>
    private static byte[] Superblock(uint incompat, uint maxlen = 4096, uint first = 1, uint start = 1)
    {
        var b = new byte[L.SuperblockSize];
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(L.h_magic), L.JBD2_MAGIC_NUMBER);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(L.h_blocktype), L.JBD2_SUPERBLOCK_V2);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(L.s_blocksize), 4096);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(L.s_maxlen), maxlen);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(L.s_first), first);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(L.s_start), start);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(L.s_feature_incompat), incompat);
        if ((incompat & (L.JBD2_FEATURE_INCOMPAT_CSUM_V2 | L.JBD2_FEATURE_INCOMPAT_CSUM_V3)) != 0)
        {
            b[L.s_checksum_type] = L.JBD2_CRC32C_CHKSUM;
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(L.s_checksum), Crc32c.Append(~0u, b));
        }

        return b;
    }
}
