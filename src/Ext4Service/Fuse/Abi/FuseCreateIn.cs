using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_create_in (fuse_kernel.h, protocol 7.45), 16 bytes. FUSE_CREATE and FUSE_TMPFILE request body, followed by the name and its NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseCreateIn
{
    /// <summary>sizeof(struct fuse_create_in).</summary>
    public const int SizeOf = 16;

    /// <summary>flags: open(2) flags.</summary>
    [FieldOffset(0)]
    public uint Flags;

    /// <summary>mode: file type and permission bits (umask already applied unless FUSE_DONT_MASK).</summary>
    [FieldOffset(4)]
    public uint Mode;

    /// <summary>umask: the caller's umask (for default ACLs).</summary>
    [FieldOffset(8)]
    public uint Umask;

    /// <summary>open_flags: FUSE_OPEN_KILL_SUIDGID.</summary>
    [FieldOffset(12)]
    public uint OpenFlags;
}
