using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_statx_out (fuse_kernel.h, protocol 7.45), 288 bytes. Reply to FUSE_STATX.</summary>
[StructLayout(LayoutKind.Explicit, Size = 288)]
internal struct FuseStatxOut
{
    /// <summary>sizeof(struct fuse_statx_out).</summary>
    public const int SizeOf = 288;

    /// <summary>attr_valid: attribute cache timeout, seconds.</summary>
    [FieldOffset(0)]
    public ulong AttrValid;

    /// <summary>attr_valid_nsec: nanoseconds of attr_valid.</summary>
    [FieldOffset(8)]
    public uint AttrValidNsec;

    /// <summary>flags: zero.</summary>
    [FieldOffset(12)]
    public uint Flags;

    /// <summary>stat: the statx data (spare[2] u64 at 16..31 stays zero).</summary>
    [FieldOffset(32)]
    public FuseStatx Stat;
}
