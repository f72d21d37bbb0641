namespace Safemount.Ext4.Journal;

/// <summary>
/// CRC-32 in the kernel's crc32_be() convention (lib/crc32.c): polynomial 0x04C11DB7, most
/// significant bit first, no pre- or post-inversion (the caller passes the running value; jbd2
/// starts each transaction from ~0). Used only by v1 journal commit checksums
/// (JBD2_FEATURE_COMPAT_CHECKSUM).
/// </summary>
internal static class Crc32Be
{
    private const uint Polynomial = 0x04C11DB7;
    private static readonly uint[] s_table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i << 24;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 0x80000000) != 0 ? (c << 1) ^ Polynomial : c << 1;
            }

            t[i] = c;
        }

        return t;
    }

    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc = (crc << 8) ^ s_table[(crc >> 24) ^ b];
        }

        return crc;
    }
}
