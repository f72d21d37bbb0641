using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_out_header (fuse_kernel.h, protocol 7.45), 16 bytes. Header of every reply and notification written to /dev/fuse.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseOutHeader
{
    /// <summary>sizeof(struct fuse_out_header).</summary>
    public const int SizeOf = 16;

    /// <summary>len: total reply length in bytes, header included.</summary>
    [FieldOffset(0)]
    public uint Len;

    /// <summary>error: 0 or a negative errno; a positive notify code when unique is 0.</summary>
    [FieldOffset(4)]
    public int Error;

    /// <summary>unique: the request's unique; 0 for a notification.</summary>
    [FieldOffset(8)]
    public ulong Unique;
}
