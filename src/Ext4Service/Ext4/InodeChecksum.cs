using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// ext4_inode_csum: crc32c over the whole inode with l_i_checksum_lo and (when it fits)
/// i_checksum_hi taken as zero, seeded with the inode seed crc32c(crc32c(fs seed, ino), gen).
/// Only the low 16 bits are stored when i_checksum_hi does not fit (128-byte inodes or a small
/// i_extra_isize).
/// </summary>
internal static class InodeChecksum
{
    /// <summary>The checksum of <paramref name="r"/> (its stored checksum fields are ignored), already cut to 16 bits when <paramref name="hasHi"/> is false.</summary>
    public static uint Compute(ReadOnlySpan<byte> r, int inodeSize, ushort extraIsize, uint seed, out bool hasHi)
    {
        hasHi = inodeSize > L.GoodOldInodeSize && L.i_checksum_hi + 2 <= L.GoodOldInodeSize + extraIsize;
        uint c = Crc32c.Append(seed, r[..L.l_i_checksum_lo]);
        c = Crc32c.AppendZeros(c, 2);
        c = Crc32c.Append(c, r[(L.l_i_checksum_lo + 2)..L.GoodOldInodeSize]);
        if (inodeSize > L.GoodOldInodeSize)
        {
            c = Crc32c.Append(c, r[L.GoodOldInodeSize..L.i_checksum_hi]);
            int rest = L.i_checksum_hi;
            if (hasHi)
            {
                c = Crc32c.AppendZeros(c, 2);
                rest += 2;
            }

            c = Crc32c.Append(c, r[rest..inodeSize]);
        }

        return hasHi ? c : c & 0xFFFF;
    }
}
