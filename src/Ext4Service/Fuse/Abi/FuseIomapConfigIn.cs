using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_config_in (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 64 bytes. FUSE_IOMAP_CONFIG request body (nodeid 0, once per mount).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct FuseIomapConfigIn
{
    /// <summary>sizeof(struct fuse_iomap_config_in).</summary>
    public const int SizeOf = 64;

    /// <summary>flags: FUSE_IOMAP_CONFIG_* bits the kernel accepts in the reply.</summary>
    [FieldOffset(0)]
    public ulong Flags;

    /// <summary>maxbytes: the kernel's MAX_LFS_FILESIZE.</summary>
    [FieldOffset(8)]
    public long Maxbytes;

    /// <summary>cache_maxbytes: per-inode mapping-cache limit the kernel proposes, bytes (default 262144).</summary>
    [FieldOffset(16)]
    public uint CacheMaxbytes;

    /// <summary>zero: zero.</summary>
    [FieldOffset(20)]
    public uint Zero;

    /// <summary>padding[0]: zero.</summary>
    [FieldOffset(24)]
    public ulong Padding0;

    /// <summary>padding[1]: zero.</summary>
    [FieldOffset(32)]
    public ulong Padding1;

    /// <summary>padding[2]: zero.</summary>
    [FieldOffset(40)]
    public ulong Padding2;

    /// <summary>padding[3]: zero.</summary>
    [FieldOffset(48)]
    public ulong Padding3;

    /// <summary>padding[4]: zero.</summary>
    [FieldOffset(56)]
    public ulong Padding4;
}
