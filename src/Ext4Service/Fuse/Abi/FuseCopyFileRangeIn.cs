using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_copy_file_range_in (fuse_kernel.h, protocol 7.45), 56 bytes. FUSE_COPY_FILE_RANGE and FUSE_COPY_FILE_RANGE_64 request body (the header's nodeid is the source inode).</summary>
[StructLayout(LayoutKind.Explicit, Size = 56)]
internal struct FuseCopyFileRangeIn
{
    /// <summary>sizeof(struct fuse_copy_file_range_in).</summary>
    public const int SizeOf = 56;

    /// <summary>fh_in: file handle of the source.</summary>
    [FieldOffset(0)]
    public ulong FhIn;

    /// <summary>off_in: source offset, bytes.</summary>
    [FieldOffset(8)]
    public ulong OffIn;

    /// <summary>nodeid_out: node id of the destination.</summary>
    [FieldOffset(16)]
    public ulong NodeidOut;

    /// <summary>fh_out: file handle of the destination.</summary>
    [FieldOffset(24)]
    public ulong FhOut;

    /// <summary>off_out: destination offset, bytes.</summary>
    [FieldOffset(32)]
    public ulong OffOut;

    /// <summary>len: bytes to copy.</summary>
    [FieldOffset(40)]
    public ulong Len;

    /// <summary>flags: copy_file_range(2) flags (zero today).</summary>
    [FieldOffset(48)]
    public ulong Flags;
}
