using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_setattr_in (fuse_kernel.h, protocol 7.45), 88 bytes. FUSE_SETATTR request body; only the fields named in valid are meaningful.</summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
internal struct FuseSetattrIn
{
    /// <summary>sizeof(struct fuse_setattr_in).</summary>
    public const int SizeOf = 88;

    /// <summary>valid: FATTR_* bits saying which fields below to apply.</summary>
    [FieldOffset(0)]
    public uint Valid;

    /// <summary>padding: zero.</summary>
    [FieldOffset(4)]
    public uint Padding;

    /// <summary>fh: file handle, with FATTR_FH (ftruncate).</summary>
    [FieldOffset(8)]
    public ulong Fh;

    /// <summary>size: new file size in bytes, with FATTR_SIZE.</summary>
    [FieldOffset(16)]
    public ulong Size;

    /// <summary>lock_owner: with FATTR_LOCKOWNER.</summary>
    [FieldOffset(24)]
    public ulong LockOwner;

    /// <summary>atime: seconds since the epoch (s64 in the kernel's iattr), with FATTR_ATIME.</summary>
    [FieldOffset(32)]
    public ulong Atime;

    /// <summary>mtime: seconds since the epoch, with FATTR_MTIME.</summary>
    [FieldOffset(40)]
    public ulong Mtime;

    /// <summary>ctime: seconds since the epoch, with FATTR_CTIME.</summary>
    [FieldOffset(48)]
    public ulong Ctime;

    /// <summary>atimensec: nanoseconds of atime.</summary>
    [FieldOffset(56)]
    public uint Atimensec;

    /// <summary>mtimensec: nanoseconds of mtime.</summary>
    [FieldOffset(60)]
    public uint Mtimensec;

    /// <summary>ctimensec: nanoseconds of ctime.</summary>
    [FieldOffset(64)]
    public uint Ctimensec;

    /// <summary>mode: new permission bits (S_IFMT ignored), with FATTR_MODE.</summary>
    [FieldOffset(68)]
    public uint Mode;

    /// <summary>unused4: zero.</summary>
    [FieldOffset(72)]
    public uint Unused4;

    /// <summary>uid: new owner, with FATTR_UID.</summary>
    [FieldOffset(76)]
    public uint Uid;

    /// <summary>gid: new group, with FATTR_GID.</summary>
    [FieldOffset(80)]
    public uint Gid;

    /// <summary>unused5: zero.</summary>
    [FieldOffset(84)]
    public uint Unused5;
}
