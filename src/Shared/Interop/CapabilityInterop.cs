using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// capget(2)/capset(2) on the calling thread (kernel/capability.c). The sets are per thread:
/// a thread that already exists keeps its own.
/// </summary>
public static unsafe partial class CapabilityInterop
{
    /// <summary>_LINUX_CAPABILITY_VERSION_3 (64-bit capability sets, two data elements).</summary>
    public const uint _LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    /// <summary>CAP_SETPCAP: needed for PR_CAPBSET_DROP and PR_SET_SECUREBITS.</summary>
    public const int CAP_SETPCAP = 8;

    [LibraryImport("libc", EntryPoint = "capget", SetLastError = true)]
    private static partial int capget_(cap_user_header* header, cap_user_data* data);

    [LibraryImport("libc", EntryPoint = "capset", SetLastError = true)]
    private static partial int capset_(cap_user_header* header, cap_user_data* data);

    /// <summary>The calling thread's (effective, permitted, inheritable) sets as 64-bit masks.</summary>
    public static (ulong Effective, ulong Permitted, ulong Inheritable) Get()
    {
        cap_user_header header = new() { version = _LINUX_CAPABILITY_VERSION_3, pid = 0 };
        cap_user_data* data = stackalloc cap_user_data[2];
        if (capget_(&header, data) != 0)
        {
            throw ErrnoException.FromLastError("capget");
        }

        return (
            data[0].effective | ((ulong)data[1].effective << 32),
            data[0].permitted | ((ulong)data[1].permitted << 32),
            data[0].inheritable | ((ulong)data[1].inheritable << 32));
    }

    /// <summary>capset with every set empty: the calling thread gives up all capabilities.</summary>
    public static void ClearAll()
    {
        cap_user_header header = new() { version = _LINUX_CAPABILITY_VERSION_3, pid = 0 };
        cap_user_data* data = stackalloc cap_user_data[2];
        data[0] = default;
        data[1] = default;
        if (capset_(&header, data) != 0)
        {
            throw ErrnoException.FromLastError("capset");
        }
    }
}
