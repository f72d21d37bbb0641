using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_ioctl_out (fuse_kernel.h, protocol 7.45), 16 bytes. FUSE_IOCTL reply
/// header, followed by the output data.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseIoctlOut
{
    /// <summary>sizeof(struct fuse_ioctl_out).</summary>
    public const int SizeOf = 16;

    /// <summary>result: the ioctl's return value (negative errno also accepted by the kernel).</summary>
    [FieldOffset(0)]
    public int Result;

    /// <summary>flags: FUSE_IOCTL_RETRY only (never set by this server).</summary>
    [FieldOffset(4)]
    public uint Flags;

    /// <summary>in_iovs: iovec count for a retry.</summary>
    [FieldOffset(8)]
    public uint InIovs;

    /// <summary>out_iovs: iovec count for a retry.</summary>
    [FieldOffset(12)]
    public uint OutIovs;
}
