using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_ioend_out (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 8 bytes. FUSE_IOMAP_IOEND reply.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseIomapIoendOut
{
    /// <summary>sizeof(struct fuse_iomap_ioend_out).</summary>
    public const int SizeOf = 8;

    /// <summary>newsize: the on-disk file size after the completion, bytes.</summary>
    [FieldOffset(0)]
    public ulong Newsize;
}
