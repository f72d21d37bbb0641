using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_lseek_in (fuse_kernel.h, protocol 7.45), 24 bytes. FUSE_LSEEK request body (sent for SEEK_DATA and SEEK_HOLE).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseLseekIn
{
    /// <summary>sizeof(struct fuse_lseek_in).</summary>
    public const int SizeOf = 24;

    /// <summary>fh: file handle.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>offset: where the search starts, bytes.</summary>
    [FieldOffset(8)]
    public ulong Offset;

    /// <summary>whence: SEEK_DATA 3 or SEEK_HOLE 4.</summary>
    [FieldOffset(16)]
    public uint Whence;

    /// <summary>padding: zero.</summary>
    [FieldOffset(20)]
    public uint Padding;
}
