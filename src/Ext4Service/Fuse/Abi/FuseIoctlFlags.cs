namespace Safemount.Fuse.Abi;

/// <summary>fuse_ioctl_in.flags (fuse_kernel.h FUSE_IOCTL_*).</summary>
[Flags]
internal enum FuseIoctlFlags : uint
{
    None = 0,

    /// <summary>FUSE_IOCTL_COMPAT: a 32-bit compat ioctl.</summary>
    FUSE_IOCTL_COMPAT = 1U << 0,

    /// <summary>FUSE_IOCTL_UNRESTRICTED: not restricted to well-formed ioctls (CUSE only).</summary>
    FUSE_IOCTL_UNRESTRICTED = 1U << 1,

    /// <summary>FUSE_IOCTL_RETRY: reply flag asking the kernel to retry with new iovecs.</summary>
    FUSE_IOCTL_RETRY = 1U << 2,

    /// <summary>FUSE_IOCTL_32BIT: the caller is a 32-bit process.</summary>
    FUSE_IOCTL_32BIT = 1U << 3,

    /// <summary>FUSE_IOCTL_DIR: issued on a directory.</summary>
    FUSE_IOCTL_DIR = 1U << 4,

    /// <summary>FUSE_IOCTL_COMPAT_X32: x32 compat ioctl.</summary>
    FUSE_IOCTL_COMPAT_X32 = 1U << 5,
}
