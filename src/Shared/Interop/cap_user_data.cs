using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// struct __user_cap_data_struct (linux/capability.h), 12 bytes. Version 3 passes two of them:
/// element 0 holds capabilities 0..31, element 1 holds 32..63.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct cap_user_data
{
    public uint effective;
    public uint permitted;
    public uint inheritable;
}
