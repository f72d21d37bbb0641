using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_lseek_out (fuse_kernel.h, protocol 7.45), 8 bytes. Reply to FUSE_LSEEK.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseLseekOut
{
    /// <summary>sizeof(struct fuse_lseek_out).</summary>
    public const int SizeOf = 8;

    /// <summary>offset: the resulting file offset, bytes.</summary>
    [FieldOffset(0)]
    public ulong Offset;
}
