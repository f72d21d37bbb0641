using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_getxattr_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_GETXATTR body (name follows) and FUSE_LISTXATTR body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseGetxattrIn
{
    /// <summary>sizeof(struct fuse_getxattr_in).</summary>
    public const int SizeOf = 8;

    /// <summary>size: caller's buffer size; 0 asks for the length only.</summary>
    [FieldOffset(0)]
    public uint Size;

    /// <summary>padding: zero.</summary>
    [FieldOffset(4)]
    public uint Padding;
}
