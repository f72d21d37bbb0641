using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_syncfs_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_SYNCFS request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseSyncfsIn
{
    /// <summary>sizeof(struct fuse_syncfs_in).</summary>
    public const int SizeOf = 8;

    /// <summary>padding: zero.</summary>
    [FieldOffset(0)]
    public ulong Padding;
}
