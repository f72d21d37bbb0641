using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_fallocate_in (fuse_kernel.h, protocol 7.45), 32 bytes. FUSE_FALLOCATE request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct FuseFallocateIn
{
    /// <summary>sizeof(struct fuse_fallocate_in).</summary>
    public const int SizeOf = 32;

    /// <summary>fh: file handle.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>offset: first byte of the range.</summary>
    [FieldOffset(8)]
    public ulong Offset;

    /// <summary>length: bytes in the range.</summary>
    [FieldOffset(16)]
    public ulong Length;

    /// <summary>mode: fallocate(2) mode bits (FALLOC_FL_KEEP_SIZE 1, PUNCH_HOLE 2, ZERO_RANGE 0x10, ...).</summary>
    [FieldOffset(24)]
    public uint Mode;

    /// <summary>padding: zero.</summary>
    [FieldOffset(28)]
    public uint Padding;
}
