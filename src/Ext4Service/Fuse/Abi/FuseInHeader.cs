using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_in_header (fuse_kernel.h, protocol 7.45), 40 bytes. Header of every request read from /dev/fuse.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct FuseInHeader
{
    /// <summary>sizeof(struct fuse_in_header).</summary>
    public const int SizeOf = 40;

    /// <summary>len: total request length in bytes, header included.</summary>
    [FieldOffset(0)]
    public uint Len;

    /// <summary>opcode: FUSE_* opcode (FuseOpcode).</summary>
    [FieldOffset(4)]
    public uint Opcode;

    /// <summary>unique: request id echoed in the reply; bit 63 = FUSE_UNIQUE_RESEND.</summary>
    [FieldOffset(8)]
    public ulong Unique;

    /// <summary>nodeid: target node (the parent directory for name operations).</summary>
    [FieldOffset(16)]
    public ulong Nodeid;

    /// <summary>uid: caller's fsuid, or FUSE_INVALID_UIDGID.</summary>
    [FieldOffset(24)]
    public uint Uid;

    /// <summary>gid: caller's fsgid, or FUSE_INVALID_UIDGID.</summary>
    [FieldOffset(28)]
    public uint Gid;

    /// <summary>pid: caller's thread group id.</summary>
    [FieldOffset(32)]
    public uint Pid;

    /// <summary>total_extlen: length of trailing request extensions, in 8-byte units.</summary>
    [FieldOffset(36)]
    public ushort TotalExtlen;

    /// <summary>padding: zero.</summary>
    [FieldOffset(38)]
    public ushort Padding;
}
