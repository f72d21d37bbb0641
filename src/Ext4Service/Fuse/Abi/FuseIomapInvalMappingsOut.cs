using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_inval_mappings_out (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 48 bytes. FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS payload: drop cached mappings of one inode.</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct FuseIomapInvalMappingsOut
{
    /// <summary>sizeof(struct fuse_iomap_inval_mappings_out).</summary>
    public const int SizeOf = 48;

    /// <summary>nodeid: FUSE node id (must be cached in the kernel, else ESTALE).</summary>
    [FieldOffset(0)]
    public ulong Nodeid;

    /// <summary>attr_ino: fuse_attr.ino of the node (must match, else EINVAL).</summary>
    [FieldOffset(8)]
    public ulong AttrIno;

    /// <summary>read: file range of the read fork; length 0 skips the fork.</summary>
    [FieldOffset(16)]
    public FuseRange Read;

    /// <summary>write: file range of the write fork; length 0 skips the fork.</summary>
    [FieldOffset(32)]
    public FuseRange Write;
}
