using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_end_in (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 72 bytes. FUSE_IOMAP_END request body (no reply payload).</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
internal struct FuseIomapEndIn
{
    /// <summary>sizeof(struct fuse_iomap_end_in).</summary>
    public const int SizeOf = 72;

    /// <summary>opflags: FUSE_IOMAP_OP_* of the BEGIN this ends.</summary>
    [FieldOffset(0)]
    public uint Opflags;

    /// <summary>reserved: zero.</summary>
    [FieldOffset(4)]
    public uint Reserved;

    /// <summary>attr_ino: the inode's fuse_attr.ino.</summary>
    [FieldOffset(8)]
    public ulong AttrIno;

    /// <summary>pos: file offset the BEGIN asked about.</summary>
    [FieldOffset(16)]
    public ulong Pos;

    /// <summary>count: bytes the BEGIN asked about.</summary>
    [FieldOffset(24)]
    public ulong Count;

    /// <summary>written: bytes actually written (s64).</summary>
    [FieldOffset(32)]
    public long Written;

    /// <summary>map: the mapping the kernel used; flags may carry SIZE_CHANGED and STALE.</summary>
    [FieldOffset(40)]
    public FuseIomapIo Map;
}
