using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_shutdownfs_in (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 8 bytes. FUSE_SHUTDOWN_FS request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseShutdownfsIn
{
    /// <summary>sizeof(struct fuse_shutdownfs_in).</summary>
    public const int SizeOf = 8;

    /// <summary>flags: zero in v7.</summary>
    [FieldOffset(0)]
    public ulong Flags;
}
