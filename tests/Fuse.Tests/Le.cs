using System.Buffers.Binary;

namespace Safemount.Fuse.Tests;

/// <summary>Little-endian field encoders for writing request fixtures field by field.</summary>
internal static class Le
{
    public static byte[] U16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return b;
    }

    public static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    public static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    /// <summary>A name with its terminating NUL.</summary>
    public static byte[] Name(string s) => [.. System.Text.Encoding.UTF8.GetBytes(s), 0];

    public static byte[] Zeros(int n) => new byte[n];

    public static byte[] Cat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>fuse_in_header (40 bytes) for a request whose body is <paramref name="bodyLength"/> bytes.</summary>
    public static byte[] InHeader(uint opcode, ulong unique, ulong nodeid, int bodyLength, uint uid = 1000, uint gid = 1000, uint pid = 4242) => Cat(
        U32((uint)(40 + bodyLength)), // len: header + body
        U32(opcode),                  // opcode
        U64(unique),                  // unique
        U64(nodeid),                  // nodeid
        U32(uid),                     // uid
        U32(gid),                     // gid
        U32(pid),                     // pid
        U16(0),                       // total_extlen: no extensions
        U16(0));                      // padding

    /// <summary>A whole request: header plus body.</summary>
    public static byte[] Request(uint opcode, ulong unique, ulong nodeid, params byte[][] body)
    {
        byte[] b = Cat(body);
        return Cat(InHeader(opcode, unique, nodeid, b.Length), b);
    }
}
