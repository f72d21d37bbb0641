using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_forget_one (fuse_kernel.h, protocol 7.45), 16 bytes. One item of FUSE_BATCH_FORGET.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseForgetOne
{
    /// <summary>sizeof(struct fuse_forget_one).</summary>
    public const int SizeOf = 16;

    /// <summary>nodeid: node whose lookup count drops.</summary>
    [FieldOffset(0)]
    public ulong Nodeid;

    /// <summary>nlookup: lookups to subtract.</summary>
    [FieldOffset(8)]
    public ulong Nlookup;
}
