using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_interrupt_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_INTERRUPT request body (never answered here).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseInterruptIn
{
    /// <summary>sizeof(struct fuse_interrupt_in).</summary>
    public const int SizeOf = 8;

    /// <summary>unique: unique of the request to interrupt.</summary>
    [FieldOffset(0)]
    public ulong Unique;
}
