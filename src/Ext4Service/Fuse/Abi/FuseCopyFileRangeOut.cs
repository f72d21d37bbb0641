using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_copy_file_range_out (fuse_kernel.h, protocol 7.45), 8 bytes. Reply to FUSE_COPY_FILE_RANGE_64 (7.45).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseCopyFileRangeOut
{
    /// <summary>sizeof(struct fuse_copy_file_range_out).</summary>
    public const int SizeOf = 8;

    /// <summary>bytes_copied: bytes copied.</summary>
    [FieldOffset(0)]
    public ulong BytesCopied;
}
