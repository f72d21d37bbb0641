using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_fsync_in (fuse_kernel.h, protocol 7.45), 16 bytes. FUSE_FSYNC and FUSE_FSYNCDIR request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseFsyncIn
{
    /// <summary>sizeof(struct fuse_fsync_in).</summary>
    public const int SizeOf = 16;

    /// <summary>fh: file handle.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>fsync_flags: FUSE_FSYNC_FDATASYNC: data only.</summary>
    [FieldOffset(8)]
    public uint FsyncFlags;

    /// <summary>padding: zero.</summary>
    [FieldOffset(12)]
    public uint Padding;
}
