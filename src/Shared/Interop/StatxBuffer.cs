using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct statx (linux/stat.h), 256 bytes, the same on every architecture.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
public struct StatxBuffer
{
    [FieldOffset(0)] public uint stx_mask;
    [FieldOffset(4)] public uint stx_blksize;
    [FieldOffset(8)] public ulong stx_attributes;
    [FieldOffset(16)] public uint stx_nlink;
    [FieldOffset(20)] public uint stx_uid;
    [FieldOffset(24)] public uint stx_gid;
    [FieldOffset(28)] public ushort stx_mode;
    [FieldOffset(32)] public ulong stx_ino;
    [FieldOffset(40)] public ulong stx_size;
    [FieldOffset(48)] public ulong stx_blocks;
    [FieldOffset(128)] public uint stx_rdev_major;
    [FieldOffset(132)] public uint stx_rdev_minor;
    [FieldOffset(136)] public uint stx_dev_major;
    [FieldOffset(140)] public uint stx_dev_minor;
    [FieldOffset(144)] public ulong stx_mnt_id;

    /// <summary>Memory buffer alignment for direct I/O, bytes (STATX_DIOALIGN).</summary>
    [FieldOffset(152)] public uint stx_dio_mem_align;

    /// <summary>File offset (and length) alignment for direct I/O, bytes (STATX_DIOALIGN).</summary>
    [FieldOffset(156)] public uint stx_dio_offset_align;
}
