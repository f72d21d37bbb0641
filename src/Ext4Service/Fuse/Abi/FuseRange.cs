using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_range (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 16 bytes. A byte range of a file or device.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseRange
{
    /// <summary>sizeof(struct fuse_range).</summary>
    public const int SizeOf = 16;

    /// <summary>offset: first byte.</summary>
    [FieldOffset(0)]
    public ulong Offset;

    /// <summary>length: bytes; 0 = nothing, FUSE_IOMAP_INVAL_TO_EOF = to the end.</summary>
    [FieldOffset(8)]
    public ulong Length;
}
