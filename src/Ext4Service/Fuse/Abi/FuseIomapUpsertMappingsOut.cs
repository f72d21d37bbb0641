using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_upsert_mappings_out (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 80 bytes. FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS payload: push mappings into the kernel's cache.</summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
internal struct FuseIomapUpsertMappingsOut
{
    /// <summary>sizeof(struct fuse_iomap_upsert_mappings_out).</summary>
    public const int SizeOf = 80;

    /// <summary>nodeid: FUSE node id.</summary>
    [FieldOffset(0)]
    public ulong Nodeid;

    /// <summary>attr_ino: fuse_attr.ino of the node.</summary>
    [FieldOffset(8)]
    public ulong AttrIno;

    /// <summary>read: read-fork mapping; type NOCACHE skips it.</summary>
    [FieldOffset(16)]
    public FuseIomapIo Read;

    /// <summary>write: write-fork mapping; type NOCACHE skips it.</summary>
    [FieldOffset(48)]
    public FuseIomapIo Write;
}
