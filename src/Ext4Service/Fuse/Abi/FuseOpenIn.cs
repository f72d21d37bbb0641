using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_open_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_OPEN and FUSE_OPENDIR request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseOpenIn
{
    /// <summary>sizeof(struct fuse_open_in).</summary>
    public const int SizeOf = 8;

    /// <summary>flags: open(2) flags.</summary>
    [FieldOffset(0)]
    public uint Flags;

    /// <summary>open_flags: FUSE_OPEN_KILL_SUIDGID.</summary>
    [FieldOffset(4)]
    public uint OpenFlags;
}
