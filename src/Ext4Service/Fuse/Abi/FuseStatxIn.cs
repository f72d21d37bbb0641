using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_statx_in (fuse_kernel.h, protocol 7.45), 24 bytes. FUSE_STATX request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseStatxIn
{
    /// <summary>sizeof(struct fuse_statx_in).</summary>
    public const int SizeOf = 24;

    /// <summary>getattr_flags: FUSE_GETATTR_FH: fh is valid.</summary>
    [FieldOffset(0)]
    public uint GetattrFlags;

    /// <summary>reserved: zero.</summary>
    [FieldOffset(4)]
    public uint Reserved;

    /// <summary>fh: file handle when FUSE_GETATTR_FH is set.</summary>
    [FieldOffset(8)]
    public ulong Fh;

    /// <summary>sx_flags: statx(2) AT_* sync flags.</summary>
    [FieldOffset(16)]
    public uint SxFlags;

    /// <summary>sx_mask: STATX_* fields the caller wants.</summary>
    [FieldOffset(20)]
    public uint SxMask;
}
