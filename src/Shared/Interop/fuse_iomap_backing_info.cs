using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct fuse_iomap_backing_info (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 8 bytes:
/// argument of FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct fuse_iomap_backing_info
{
    [FieldOffset(0)] public uint backing_id; // id from FUSE_DEV_IOC_BACKING_OPEN
    [FieldOffset(4)] public uint blocksize;  // bytes: the file system block size
}
