using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_write_out (fuse_kernel.h, protocol 7.45), 8 bytes. Reply to FUSE_WRITE and FUSE_COPY_FILE_RANGE.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseWriteOut
{
    /// <summary>sizeof(struct fuse_write_out).</summary>
    public const int SizeOf = 8;

    /// <summary>size: bytes written (copied).</summary>
    [FieldOffset(0)]
    public uint Size;

    /// <summary>padding: zero.</summary>
    [FieldOffset(4)]
    public uint Padding;
}
