using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct rlimit64 (sys/resource.h), 16 bytes: the prlimit64 argument.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct rlimit64
{
    public ulong rlim_cur; // soft limit
    public ulong rlim_max; // hard limit (ceiling for rlim_cur)
}
