using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_ioctl_in (fuse_kernel.h, protocol 7.45), 32 bytes. FUSE_IOCTL request
/// body, followed by in_size bytes of input data.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct FuseIoctlIn
{
    /// <summary>sizeof(struct fuse_ioctl_in).</summary>
    public const int SizeOf = 32;

    /// <summary>fh: the handle of the OPEN or OPENDIR the ioctl is issued on.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>flags: FUSE_IOCTL_* (COMPAT, UNRESTRICTED, RETRY, 32BIT, DIR, COMPAT_X32).</summary>
    [FieldOffset(8)]
    public uint Flags;

    /// <summary>cmd: the ioctl request number as the caller passed it.</summary>
    [FieldOffset(12)]
    public uint Cmd;

    /// <summary>arg: the caller's argument (a user-space pointer; never dereferenced here).</summary>
    [FieldOffset(16)]
    public ulong Arg;

    /// <summary>in_size: bytes of input data after this struct.</summary>
    [FieldOffset(24)]
    public uint InSize;

    /// <summary>out_size: the most output bytes the kernel accepts after fuse_ioctl_out.</summary>
    [FieldOffset(28)]
    public uint OutSize;
}
