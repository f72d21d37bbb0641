using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct __user_cap_header_struct (linux/capability.h), 8 bytes: the capget/capset header.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct cap_user_header
{
    public uint version; // _LINUX_CAPABILITY_VERSION_3: two cap_user_data elements (64 capabilities)
    public int pid;      // 0: the calling thread
}
