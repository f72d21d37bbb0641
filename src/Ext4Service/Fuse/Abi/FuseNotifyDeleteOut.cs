using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_notify_delete_out (fuse_kernel.h, protocol 7.45), 24 bytes. Payload of FUSE_NOTIFY_DELETE, followed by the name and its NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseNotifyDeleteOut
{
    /// <summary>sizeof(struct fuse_notify_delete_out).</summary>
    public const int SizeOf = 24;

    /// <summary>parent: node id of the directory.</summary>
    [FieldOffset(0)]
    public ulong Parent;

    /// <summary>child: node id the name referred to.</summary>
    [FieldOffset(8)]
    public ulong Child;

    /// <summary>namelen: bytes of the name without its NUL.</summary>
    [FieldOffset(16)]
    public uint Namelen;

    /// <summary>padding: zero.</summary>
    [FieldOffset(20)]
    public uint Padding;
}
