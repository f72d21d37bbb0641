using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_getattr_in (fuse_kernel.h, protocol 7.45), 16 bytes. FUSE_GETATTR request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseGetattrIn
{
    /// <summary>sizeof(struct fuse_getattr_in).</summary>
    public const int SizeOf = 16;

    /// <summary>getattr_flags: FUSE_GETATTR_FH: fh is valid.</summary>
    [FieldOffset(0)]
    public uint GetattrFlags;

    /// <summary>dummy: zero.</summary>
    [FieldOffset(4)]
    public uint Dummy;

    /// <summary>fh: file handle when FUSE_GETATTR_FH is set.</summary>
    [FieldOffset(8)]
    public ulong Fh;
}
