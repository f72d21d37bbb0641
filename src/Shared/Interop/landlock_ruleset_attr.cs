using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// struct landlock_ruleset_attr (linux/landlock.h), 24 bytes in ABI 6. Older kernels know a
/// prefix of it: 8 bytes (ABI 1..3), 16 bytes (ABI 4..5); the size passed tells the kernel which.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct landlock_ruleset_attr
{
    public ulong handled_access_fs;  // LANDLOCK_ACCESS_FS_* denied unless a rule allows them
    public ulong handled_access_net; // LANDLOCK_ACCESS_NET_* (ABI 4)
    public ulong scoped;             // LANDLOCK_SCOPE_* (ABI 6)
}
