using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct fuse_iomap_support (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 16 bytes:
/// filled by FUSE_DEV_IOC_IOMAP_SUPPORT.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct fuse_iomap_support
{
    /// <summary>FUSE_IOMAP_SUPPORT_FILEIO: iomap file I/O (buffered and direct) is usable.</summary>
    public const ulong FUSE_IOMAP_SUPPORT_FILEIO = 1UL << 0;

    /// <summary>FUSE_IOMAP_SUPPORT_ATOMIC: untorn (atomic) writes are usable.</summary>
    public const ulong FUSE_IOMAP_SUPPORT_ATOMIC = 1UL << 1;

    [FieldOffset(0)] public ulong flags;   // FUSE_IOMAP_SUPPORT_*
    [FieldOffset(8)] public ulong padding; // zero
}
