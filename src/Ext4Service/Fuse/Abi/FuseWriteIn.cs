using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_write_in (fuse_kernel.h, protocol 7.45), 40 bytes. FUSE_WRITE request body, followed by size bytes of data.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct FuseWriteIn
{
    /// <summary>sizeof(struct fuse_write_in).</summary>
    public const int SizeOf = 40;

    /// <summary>fh: file handle from OPEN.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>offset: byte offset.</summary>
    [FieldOffset(8)]
    public ulong Offset;

    /// <summary>size: bytes of data that follow.</summary>
    [FieldOffset(16)]
    public uint Size;

    /// <summary>write_flags: FUSE_WRITE_CACHE, FUSE_WRITE_LOCKOWNER, FUSE_WRITE_KILL_SUIDGID.</summary>
    [FieldOffset(20)]
    public uint WriteFlags;

    /// <summary>lock_owner: lock owner id.</summary>
    [FieldOffset(24)]
    public ulong LockOwner;

    /// <summary>flags: open(2) flags of the file.</summary>
    [FieldOffset(32)]
    public uint Flags;

    /// <summary>padding: zero.</summary>
    [FieldOffset(36)]
    public uint Padding;
}
