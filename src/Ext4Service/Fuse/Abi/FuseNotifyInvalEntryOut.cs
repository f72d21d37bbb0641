using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_notify_inval_entry_out (fuse_kernel.h, protocol 7.45), 16 bytes. Payload of FUSE_NOTIFY_INVAL_ENTRY, followed by the name and its NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseNotifyInvalEntryOut
{
    /// <summary>sizeof(struct fuse_notify_inval_entry_out).</summary>
    public const int SizeOf = 16;

    /// <summary>parent: node id of the directory.</summary>
    [FieldOffset(0)]
    public ulong Parent;

    /// <summary>namelen: bytes of the name without its NUL.</summary>
    [FieldOffset(8)]
    public uint Namelen;

    /// <summary>flags: FUSE_EXPIRE_ONLY 1 (expire instead of dropping; needs FUSE_HAS_EXPIRE_ONLY).</summary>
    [FieldOffset(12)]
    public uint Flags;
}
