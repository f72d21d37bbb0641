using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_flush_in (fuse_kernel.h, protocol 7.45), 24 bytes. FUSE_FLUSH request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseFlushIn
{
    /// <summary>sizeof(struct fuse_flush_in).</summary>
    public const int SizeOf = 24;

    /// <summary>fh: file handle.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>unused: zero.</summary>
    [FieldOffset(8)]
    public uint Unused;

    /// <summary>padding: zero.</summary>
    [FieldOffset(12)]
    public uint Padding;

    /// <summary>lock_owner: lock owner id of the closing file table.</summary>
    [FieldOffset(16)]
    public ulong LockOwner;
}
