using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct fuse_backing_map (fuse_kernel.h; fuse-iomap v7 uses the low byte of flags
/// as FUSE_BACKING_TYPE_*), 16 bytes: argument of FUSE_DEV_IOC_BACKING_OPEN.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct fuse_backing_map
{
    /// <summary>FUSE_BACKING_TYPE_MASK: the backing type lives in the low byte of flags.</summary>
    public const uint FUSE_BACKING_TYPE_MASK = 0xFF;

    /// <summary>FUSE_BACKING_TYPE_PASSTHROUGH: a regular file for FOPEN_PASSTHROUGH.</summary>
    public const uint FUSE_BACKING_TYPE_PASSTHROUGH = 0;

    /// <summary>FUSE_BACKING_TYPE_IOMAP: a block device iomap mappings point into (v7).</summary>
    public const uint FUSE_BACKING_TYPE_IOMAP = 1;

    [FieldOffset(0)] public int fd;        // the file or block device to register
    [FieldOffset(4)] public uint flags;    // FUSE_BACKING_TYPE_* in the low byte, other bits 0
    [FieldOffset(8)] public ulong padding; // must be 0
}
