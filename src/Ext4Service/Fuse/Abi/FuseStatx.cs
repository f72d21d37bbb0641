using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_statx (fuse_kernel.h, protocol 7.45), 256 bytes. struct statx as FUSE carries it.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct FuseStatx
{
    /// <summary>sizeof(struct fuse_statx).</summary>
    public const int SizeOf = 256;

    /// <summary>mask: STATX_* fields that are valid.</summary>
    [FieldOffset(0)]
    public uint Mask;

    /// <summary>blksize: preferred I/O size.</summary>
    [FieldOffset(4)]
    public uint Blksize;

    /// <summary>attributes: STATX_ATTR_* flags.</summary>
    [FieldOffset(8)]
    public ulong Attributes;

    /// <summary>nlink: hard link count.</summary>
    [FieldOffset(16)]
    public uint Nlink;

    /// <summary>uid: owner.</summary>
    [FieldOffset(20)]
    public uint Uid;

    /// <summary>gid: group.</summary>
    [FieldOffset(24)]
    public uint Gid;

    /// <summary>mode: file type and permission bits.</summary>
    [FieldOffset(28)]
    public ushort Mode;

    /// <summary>__spare0[1]: zero.</summary>
    [FieldOffset(30)]
    public ushort Spare0;

    /// <summary>ino: inode number.</summary>
    [FieldOffset(32)]
    public ulong Ino;

    /// <summary>size: size in bytes.</summary>
    [FieldOffset(40)]
    public ulong Size;

    /// <summary>blocks: allocated space in 512-byte units.</summary>
    [FieldOffset(48)]
    public ulong Blocks;

    /// <summary>attributes_mask: STATX_ATTR_* flags this file system supports.</summary>
    [FieldOffset(56)]
    public ulong AttributesMask;

    /// <summary>atime: last access.</summary>
    [FieldOffset(64)]
    public FuseSxTime Atime;

    /// <summary>btime: creation (birth).</summary>
    [FieldOffset(80)]
    public FuseSxTime Btime;

    /// <summary>ctime: last status change.</summary>
    [FieldOffset(96)]
    public FuseSxTime Ctime;

    /// <summary>mtime: last modification.</summary>
    [FieldOffset(112)]
    public FuseSxTime Mtime;

    /// <summary>rdev_major: device major of a device node.</summary>
    [FieldOffset(128)]
    public uint RdevMajor;

    /// <summary>rdev_minor: device minor of a device node.</summary>
    [FieldOffset(132)]
    public uint RdevMinor;

    /// <summary>dev_major: ignored by the kernel.</summary>
    [FieldOffset(136)]
    public uint DevMajor;

    /// <summary>dev_minor: ignored by the kernel.</summary>
    [FieldOffset(140)]
    public uint DevMinor;
}
