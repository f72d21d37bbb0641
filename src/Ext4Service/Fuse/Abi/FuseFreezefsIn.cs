using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_freezefs_in (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 8 bytes. FUSE_FREEZE_FS request body.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseFreezefsIn
{
    /// <summary>sizeof(struct fuse_freezefs_in).</summary>
    public const int SizeOf = 8;

    /// <summary>unlinked: sb-&gt;s_remove_count: inodes unlinked but still open.</summary>
    [FieldOffset(0)]
    public ulong Unlinked;
}
