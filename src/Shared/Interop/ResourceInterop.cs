using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// prlimit64(2) on this process (kernel/sys.c do_prlimit). prlimit64, not setrlimit: systemd's
/// @default syscall group allows prlimit64, while setrlimit is in @resources, which
/// safemount-ext4@.service denies. Resource limits are per process.
/// </summary>
public static unsafe partial class ResourceInterop
{
    /// <summary>asm-generic/resource.h (x86_64 and arm64 agree).</summary>
    public const int RLIMIT_CORE = 4;
    public const int RLIMIT_NPROC = 6;
    public const int RLIMIT_NOFILE = 7;

    public const ulong RLIM_INFINITY = ulong.MaxValue;

    [LibraryImport("libc", EntryPoint = "prlimit64", SetLastError = true)]
    private static partial int prlimit64_(int pid, int resource, rlimit64* newLimit, rlimit64* oldLimit);

    public static rlimit64 Get(int resource)
    {
        rlimit64 old;
        if (prlimit64_(0, resource, null, &old) != 0)
        {
            throw ErrnoException.FromLastError($"prlimit64(get {resource})");
        }

        return old;
    }

    /// <summary>Sets soft and hard limit; lowering the hard limit is irreversible without CAP_SYS_RESOURCE.</summary>
    public static void Set(int resource, rlimit64 limit)
    {
        if (prlimit64_(0, resource, &limit, null) != 0)
        {
            throw ErrnoException.FromLastError($"prlimit64(set {resource})");
        }
    }
}
