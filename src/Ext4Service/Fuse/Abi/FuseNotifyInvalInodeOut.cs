using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_notify_inval_inode_out (fuse_kernel.h, protocol 7.45), 24 bytes. Payload of FUSE_NOTIFY_INVAL_INODE (server to kernel).</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseNotifyInvalInodeOut
{
    /// <summary>sizeof(struct fuse_notify_inval_inode_out).</summary>
    public const int SizeOf = 24;

    /// <summary>ino: node id whose attributes (and page cache range) to drop.</summary>
    [FieldOffset(0)]
    public ulong Ino;

    /// <summary>off: first byte of page cache to drop; negative = attributes only.</summary>
    [FieldOffset(8)]
    public long Off;

    /// <summary>len: bytes of page cache to drop; 0 or less = to the end of the file.</summary>
    [FieldOffset(16)]
    public long Len;
}
