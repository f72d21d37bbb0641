using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_setxattr_in (fuse_kernel.h, protocol 7.45), 16 bytes. FUSE_SETXATTR request body, followed by the name with its NUL and size value bytes. Without FUSE_SETXATTR_EXT the kernel sends only the first FUSE_COMPAT_SETXATTR_IN_SIZE (8) bytes.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseSetxattrIn
{
    /// <summary>sizeof(struct fuse_setxattr_in).</summary>
    public const int SizeOf = 16;

    /// <summary>size: length of the value in bytes.</summary>
    [FieldOffset(0)]
    public uint Size;

    /// <summary>flags: XATTR_CREATE 1, XATTR_REPLACE 2.</summary>
    [FieldOffset(4)]
    public uint Flags;

    /// <summary>setxattr_flags: FUSE_SETXATTR_ACL_KILL_SGID (7.33, with FUSE_SETXATTR_EXT only).</summary>
    [FieldOffset(8)]
    public uint SetxattrFlags;

    /// <summary>padding: zero.</summary>
    [FieldOffset(12)]
    public uint Padding;
}
