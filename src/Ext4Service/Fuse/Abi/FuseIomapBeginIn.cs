using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_begin_in (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 32 bytes. FUSE_IOMAP_BEGIN request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct FuseIomapBeginIn
{
    /// <summary>sizeof(struct fuse_iomap_begin_in).</summary>
    public const int SizeOf = 32;

    /// <summary>opflags: FUSE_IOMAP_OP_* (<see cref="FuseIomapOp"/>).</summary>
    [FieldOffset(0)]
    public uint Opflags;

    /// <summary>reserved: zero.</summary>
    [FieldOffset(4)]
    public uint Reserved;

    /// <summary>attr_ino: fuse_attr.ino the server reported for the inode (the ext4 inode number).</summary>
    [FieldOffset(8)]
    public ulong AttrIno;

    /// <summary>pos: file offset of the first byte asked about.</summary>
    [FieldOffset(16)]
    public ulong Pos;

    /// <summary>count: bytes asked about.</summary>
    [FieldOffset(24)]
    public ulong Count;
}
