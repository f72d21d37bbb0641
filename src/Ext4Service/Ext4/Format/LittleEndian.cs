using System.Buffers.Binary;

namespace Safemount.Ext4.Format;

/// <summary>Little-endian field reads at a byte offset (every ext4 on-disk integer is little-endian).</summary>
internal static class LittleEndian
{
    public static uint U32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);

    public static ushort U16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);
}
