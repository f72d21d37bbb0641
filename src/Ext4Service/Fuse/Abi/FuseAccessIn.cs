using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_access_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_ACCESS request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseAccessIn
{
    /// <summary>sizeof(struct fuse_access_in).</summary>
    public const int SizeOf = 8;

    /// <summary>mask: access(2) mask: R_OK 4, W_OK 2, X_OK 1.</summary>
    [FieldOffset(0)]
    public uint Mask;

    /// <summary>padding: zero.</summary>
    [FieldOffset(4)]
    public uint Padding;
}
