using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_getxattr_out (fuse_kernel.h, protocol 7.45), 8 bytes. Reply to GETXATTR/LISTXATTR when size was 0.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseGetxattrOut
{
    /// <summary>sizeof(struct fuse_getxattr_out).</summary>
    public const int SizeOf = 8;

    /// <summary>size: length of the value or name list in bytes.</summary>
    [FieldOffset(0)]
    public uint Size;

    /// <summary>padding: zero.</summary>
    [FieldOffset(4)]
    public uint Padding;
}
