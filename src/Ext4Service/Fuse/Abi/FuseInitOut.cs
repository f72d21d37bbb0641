using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_init_out (fuse_kernel.h, protocol 7.45), 64 bytes. FUSE_INIT reply body (24 bytes before 7.23, 8 before 7.5).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct FuseInitOut
{
    /// <summary>sizeof(struct fuse_init_out).</summary>
    public const int SizeOf = 64;

    /// <summary>major: server protocol major version.</summary>
    [FieldOffset(0)]
    public uint Major;

    /// <summary>minor: server protocol minor version, at most the kernel's.</summary>
    [FieldOffset(4)]
    public uint Minor;

    /// <summary>max_readahead: readahead limit in bytes (can only lower the kernel's).</summary>
    [FieldOffset(8)]
    public uint MaxReadahead;

    /// <summary>flags: taken init flags, bits 0..31.</summary>
    [FieldOffset(12)]
    public uint Flags;

    /// <summary>max_background: background request limit (default 12).</summary>
    [FieldOffset(16)]
    public ushort MaxBackground;

    /// <summary>congestion_threshold: background requests before congestion (default 9).</summary>
    [FieldOffset(18)]
    public ushort CongestionThreshold;

    /// <summary>max_write: largest WRITE payload in bytes (raised to at least 4096).</summary>
    [FieldOffset(20)]
    public uint MaxWrite;

    /// <summary>time_gran: timestamp granularity in ns (1..1e9).</summary>
    [FieldOffset(24)]
    public uint TimeGran;

    /// <summary>max_pages: pages per request, valid with FUSE_MAX_PAGES.</summary>
    [FieldOffset(28)]
    public ushort MaxPages;

    /// <summary>map_alignment: DAX window alignment (log2), unused here.</summary>
    [FieldOffset(30)]
    public ushort MapAlignment;

    /// <summary>flags2: taken init flags, bits 32..63 (valid with FUSE_INIT_EXT).</summary>
    [FieldOffset(32)]
    public uint Flags2;

    /// <summary>max_stack_depth: passthrough stacking depth, unused here.</summary>
    [FieldOffset(36)]
    public uint MaxStackDepth;

    /// <summary>request_timeout: seconds before the kernel aborts (FUSE_REQUEST_TIMEOUT).</summary>
    [FieldOffset(40)]
    public ushort RequestTimeout;
}
