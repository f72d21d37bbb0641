using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_dev_inval_out (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 24 bytes. FUSE_NOTIFY_IOMAP_DEV_INVAL payload: drop the block device's page cache over a range.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseIomapDevInvalOut
{
    /// <summary>sizeof(struct fuse_iomap_dev_inval_out).</summary>
    public const int SizeOf = 24;

    /// <summary>dev: backing id.</summary>
    [FieldOffset(0)]
    public uint Dev;

    /// <summary>reserved: zero.</summary>
    [FieldOffset(4)]
    public uint Reserved;

    /// <summary>range: device byte range.</summary>
    [FieldOffset(8)]
    public FuseRange Range;
}
