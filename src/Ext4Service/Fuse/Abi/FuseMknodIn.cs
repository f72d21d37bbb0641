using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_mknod_in (fuse_kernel.h, protocol 7.45), 16 bytes. FUSE_MKNOD request body, followed by the name and its NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseMknodIn
{
    /// <summary>sizeof(struct fuse_mknod_in).</summary>
    public const int SizeOf = 16;

    /// <summary>mode: file type and permission bits (umask already applied unless FUSE_DONT_MASK).</summary>
    [FieldOffset(0)]
    public uint Mode;

    /// <summary>rdev: device number in new_encode_dev format (character and block devices).</summary>
    [FieldOffset(4)]
    public uint Rdev;

    /// <summary>umask: the caller's umask (for default ACLs).</summary>
    [FieldOffset(8)]
    public uint Umask;

    /// <summary>padding: zero.</summary>
    [FieldOffset(12)]
    public uint Padding;
}
