using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct sock_fprog (linux/filter.h), 16 bytes on 64-bit: a BPF program for seccomp.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct sock_fprog
{
    public ushort len;          // number of instructions (BPF_MAXINSNS = 4096 at most)
    public sock_filter* filter; // at offset 8 (pointer alignment)
}
