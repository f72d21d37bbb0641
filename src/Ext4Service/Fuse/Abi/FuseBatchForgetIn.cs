using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_batch_forget_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_BATCH_FORGET request body, followed by count fuse_forget_one.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseBatchForgetIn
{
    /// <summary>sizeof(struct fuse_batch_forget_in).</summary>
    public const int SizeOf = 8;

    /// <summary>count: number of fuse_forget_one records that follow.</summary>
    [FieldOffset(0)]
    public uint Count;

    /// <summary>dummy: zero.</summary>
    [FieldOffset(4)]
    public uint Dummy;
}
