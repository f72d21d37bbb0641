using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_ioend_in (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 48 bytes. FUSE_IOMAP_IOEND request body: a write completed.</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct FuseIomapIoendIn
{
    /// <summary>sizeof(struct fuse_iomap_ioend_in).</summary>
    public const int SizeOf = 48;

    /// <summary>flags: FUSE_IOMAP_IOEND_* (<see cref="FuseIomapIoendFlags"/>).</summary>
    [FieldOffset(0)]
    public uint Flags;

    /// <summary>error: 0 or -errno of the I/O.</summary>
    [FieldOffset(4)]
    public int Error;

    /// <summary>attr_ino: the inode's fuse_attr.ino.</summary>
    [FieldOffset(8)]
    public ulong AttrIno;

    /// <summary>pos: file offset of the first byte written.</summary>
    [FieldOffset(16)]
    public ulong Pos;

    /// <summary>new_addr: where the data went (out-of-place writes only; a 512-byte sector number from writeback, §2.7).</summary>
    [FieldOffset(24)]
    public ulong NewAddr;

    /// <summary>written: bytes written (u64).</summary>
    [FieldOffset(32)]
    public ulong Written;

    /// <summary>dev: backing id new_addr refers to.</summary>
    [FieldOffset(40)]
    public uint Dev;

    /// <summary>pad: zero.</summary>
    [FieldOffset(44)]
    public uint Pad;
}
