using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct loop_config (linux/loop.h), 304 bytes: the LOOP_CONFIGURE argument.</summary>
[StructLayout(LayoutKind.Explicit, Size = 304)]
public unsafe struct loop_config
{
    [FieldOffset(0)] public uint fd;          // backing file descriptor
    [FieldOffset(4)] public uint block_size;  // logical block size, 0 = default (512)
    [FieldOffset(8)] public loop_info64 info;
    [FieldOffset(240)] public fixed ulong __reserved[8];
}
