using System.Runtime.InteropServices;

namespace Safemount.Fuse;

/// <summary>
/// struct fuse_attr (fuse_kernel.h), 88 bytes: the attributes the file system reports for a
/// node. This is the wire layout itself; fuse_entry_out, fuse_attr_out and fuse_direntplus embed
/// it unchanged. The session fills the timeouts around it.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
public struct FuseAttr
{
    /// <summary>ino: inode number reported to stat(2).</summary>
    [FieldOffset(0)] public ulong Ino;

    /// <summary>size: file size in bytes.</summary>
    [FieldOffset(8)] public ulong Size;

    /// <summary>blocks: allocated space in 512-byte units.</summary>
    [FieldOffset(16)] public ulong Blocks;

    /// <summary>atime: last access, seconds since the epoch.</summary>
    [FieldOffset(24)] public long Atime;

    /// <summary>mtime: last modification, seconds since the epoch.</summary>
    [FieldOffset(32)] public long Mtime;

    /// <summary>ctime: last status change, seconds since the epoch.</summary>
    [FieldOffset(40)] public long Ctime;

    /// <summary>atimensec: nanoseconds of atime (0..999999999).</summary>
    [FieldOffset(48)] public uint AtimeNsec;

    /// <summary>mtimensec: nanoseconds of mtime.</summary>
    [FieldOffset(52)] public uint MtimeNsec;

    /// <summary>ctimensec: nanoseconds of ctime.</summary>
    [FieldOffset(56)] public uint CtimeNsec;

    /// <summary>mode: file type and permission bits (S_IFMT | 07777).</summary>
    [FieldOffset(60)] public uint Mode;

    /// <summary>nlink: hard link count.</summary>
    [FieldOffset(64)] public uint Nlink;

    /// <summary>uid: owner.</summary>
    [FieldOffset(68)] public uint Uid;

    /// <summary>gid: group.</summary>
    [FieldOffset(72)] public uint Gid;

    /// <summary>rdev: device number of a device node, in the kernel's new_encode_dev format.</summary>
    [FieldOffset(76)] public uint Rdev;

    /// <summary>blksize: preferred I/O size; 0 means the superblock block size.</summary>
    [FieldOffset(80)] public uint Blksize;

    /// <summary>flags: FUSE_ATTR_* (SUBMOUNT 1&lt;&lt;0, DAX 1&lt;&lt;1).</summary>
    [FieldOffset(84)] public uint Flags;
}
