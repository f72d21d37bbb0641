using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace Safemount.Ext4.Format;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) in the kernel's crc32c() convention:
/// no pre- or post-inversion, the caller passes the running value (ext4 starts from ~0 and
/// stores the raw result). The standard CRC-32C of a message is ~Append(~0u, message).
/// </summary>
internal static class Crc32c
{
    private const uint Polynomial = 0x82F63B78;
    private static readonly uint[] s_table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            t[i] = c;
        }

        return t;
    }

    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            ulong c = crc;
            while (data.Length >= 8)
            {
                c = Sse42.X64.Crc32(c, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }

            crc = (uint)c;
        }

        if (Sse42.IsSupported)
        {
            foreach (byte b in data)
            {
                crc = Sse42.Crc32(crc, b);
            }

            return crc;
        }

        foreach (byte b in data)
        {
            crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    /// <summary>Appends a little-endian 32-bit value (ext4 hashes inode numbers and groups as __le32).</summary>
    public static uint AppendLe32(uint crc, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return Append(crc, b);
    }

    /// <summary>Appends a little-endian 64-bit value (xattr block numbers).</summary>
    public static uint AppendLe64(uint crc, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return Append(crc, b);
    }

    /// <summary>Appends <paramref name="count"/> zero bytes (a checksum field treated as zero).</summary>
    public static uint AppendZeros(uint crc, int count)
    {
        Span<byte> z = stackalloc byte[8];
        z.Clear();
        while (count > 0)
        {
            int n = Math.Min(count, z.Length);
            crc = Append(crc, z[..n]);
            count -= n;
        }

        return crc;
    }
}
