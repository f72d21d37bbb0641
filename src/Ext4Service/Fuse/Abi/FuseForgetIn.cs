using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_forget_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_FORGET request body (never answered).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseForgetIn
{
    /// <summary>sizeof(struct fuse_forget_in).</summary>
    public const int SizeOf = 8;

    /// <summary>nlookup: lookups to subtract from the header's nodeid.</summary>
    [FieldOffset(0)]
    public ulong Nlookup;
}
