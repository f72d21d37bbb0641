using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_read_in (fuse_kernel.h, protocol 7.45), 40 bytes. FUSE_READ, FUSE_READDIR and FUSE_READDIRPLUS request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct FuseReadIn
{
    /// <summary>sizeof(struct fuse_read_in).</summary>
    public const int SizeOf = 40;

    /// <summary>fh: file handle from OPEN/OPENDIR.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>offset: byte offset (READ) or directory cookie (READDIR).</summary>
    [FieldOffset(8)]
    public ulong Offset;

    /// <summary>size: bytes wanted.</summary>
    [FieldOffset(16)]
    public uint Size;

    /// <summary>read_flags: FUSE_READ_LOCKOWNER.</summary>
    [FieldOffset(20)]
    public uint ReadFlags;

    /// <summary>lock_owner: lock owner id when FUSE_READ_LOCKOWNER is set.</summary>
    [FieldOffset(24)]
    public ulong LockOwner;

    /// <summary>flags: open(2) flags of the file.</summary>
    [FieldOffset(32)]
    public uint Flags;

    /// <summary>padding: zero.</summary>
    [FieldOffset(36)]
    public uint Padding;
}
