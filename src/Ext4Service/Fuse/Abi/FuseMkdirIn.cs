using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_mkdir_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_MKDIR request body, followed by the name and its NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseMkdirIn
{
    /// <summary>sizeof(struct fuse_mkdir_in).</summary>
    public const int SizeOf = 8;

    /// <summary>mode: permission bits (S_IFDIR not included; umask already applied unless FUSE_DONT_MASK).</summary>
    [FieldOffset(0)]
    public uint Mode;

    /// <summary>umask: the caller's umask (for default ACLs).</summary>
    [FieldOffset(4)]
    public uint Umask;
}
