using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_init_in (fuse_kernel.h, protocol 7.45), 64 bytes. FUSE_INIT request body (16 bytes before protocol 7.36).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct FuseInitIn
{
    /// <summary>sizeof(struct fuse_init_in).</summary>
    public const int SizeOf = 64;

    /// <summary>major: kernel protocol major version (7).</summary>
    [FieldOffset(0)]
    public uint Major;

    /// <summary>minor: kernel protocol minor version (45 on Linux 6.18).</summary>
    [FieldOffset(4)]
    public uint Minor;

    /// <summary>max_readahead: kernel readahead window in bytes.</summary>
    [FieldOffset(8)]
    public uint MaxReadahead;

    /// <summary>flags: offered FUSE_* init flags, bits 0..31.</summary>
    [FieldOffset(12)]
    public uint Flags;

    /// <summary>flags2: offered init flags, bits 32..63 (valid with FUSE_INIT_EXT).</summary>
    [FieldOffset(16)]
    public uint Flags2;
}
