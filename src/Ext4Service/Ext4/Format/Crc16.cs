namespace Safemount.Ext4.Format;

/// <summary>
/// The kernel's crc16() (lib/crc16.c): CRC-16 with the reflected polynomial 0xA001 (x^16 + x^15
/// + x^2 + 1), no inversion. Used by uninit_bg/gdt_csum group descriptor checksums. With an
/// initial value of 0 this is CRC-16/ARC.
/// </summary>
internal static class Crc16
{
    private const ushort Polynomial = 0xA001;
    private static readonly ushort[] s_table = BuildTable();

    private static ushort[] BuildTable()
    {
        var t = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            int c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            t[i] = (ushort)c;
        }

        return t;
    }

    public static ushort Append(ushort crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc = (ushort)((crc >> 8) ^ s_table[(crc ^ b) & 0xFF]);
        }

        return crc;
    }
}
