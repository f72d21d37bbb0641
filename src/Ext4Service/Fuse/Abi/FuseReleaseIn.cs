using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_release_in (fuse_kernel.h, protocol 7.45), 24 bytes. FUSE_RELEASE and FUSE_RELEASEDIR request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseReleaseIn
{
    /// <summary>sizeof(struct fuse_release_in).</summary>
    public const int SizeOf = 24;

    /// <summary>fh: file handle being released.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>flags: open(2) flags of the file.</summary>
    [FieldOffset(8)]
    public uint Flags;

    /// <summary>release_flags: FUSE_RELEASE_FLUSH, FUSE_RELEASE_FLOCK_UNLOCK.</summary>
    [FieldOffset(12)]
    public uint ReleaseFlags;

    /// <summary>lock_owner: lock owner id.</summary>
    [FieldOffset(16)]
    public ulong LockOwner;
}
