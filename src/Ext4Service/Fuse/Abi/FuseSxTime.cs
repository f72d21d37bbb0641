using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_sx_time (fuse_kernel.h, protocol 7.45), 16 bytes. A timestamp inside fuse_statx (same layout as struct statx_timestamp).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseSxTime
{
    /// <summary>sizeof(struct fuse_sx_time).</summary>
    public const int SizeOf = 16;

    /// <summary>tv_sec: seconds since the epoch.</summary>
    [FieldOffset(0)]
    public long TvSec;

    /// <summary>tv_nsec: nanoseconds.</summary>
    [FieldOffset(8)]
    public uint TvNsec;

    /// <summary>__reserved: zero.</summary>
    [FieldOffset(12)]
    public int Reserved;
}
