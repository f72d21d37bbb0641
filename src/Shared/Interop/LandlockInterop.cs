using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// Landlock (security/landlock/syscalls.c). glibc has no wrappers, so the calls go through
/// syscall(2); the numbers 444..446 are the same on every architecture.
/// </summary>
public static unsafe partial class LandlockInterop
{
    public const long SYS_landlock_create_ruleset = 444;
    public const long SYS_landlock_restrict_self = 446;

    /// <summary>landlock_create_ruleset flag: return the highest ABI version instead of a ruleset.</summary>
    public const uint LANDLOCK_CREATE_RULESET_VERSION = 1 << 0;

    /// <summary>landlock_create_ruleset flag: return the bitmask of fixed errata (bit N-1 = erratum N).</summary>
    public const uint LANDLOCK_CREATE_RULESET_ERRATA = 1 << 1;

    // ABI 1: bits 0..12. ABI 2: REFER (13). ABI 3: TRUNCATE (14). ABI 5: IOCTL_DEV (15).
    public const ulong LANDLOCK_ACCESS_FS_EXECUTE = 1UL << 0;
    public const ulong LANDLOCK_ACCESS_FS_WRITE_FILE = 1UL << 1;
    public const ulong LANDLOCK_ACCESS_FS_READ_FILE = 1UL << 2;
    public const ulong LANDLOCK_ACCESS_FS_READ_DIR = 1UL << 3;
    public const ulong LANDLOCK_ACCESS_FS_REMOVE_DIR = 1UL << 4;
    public const ulong LANDLOCK_ACCESS_FS_REMOVE_FILE = 1UL << 5;
    public const ulong LANDLOCK_ACCESS_FS_MAKE_CHAR = 1UL << 6;
    public const ulong LANDLOCK_ACCESS_FS_MAKE_DIR = 1UL << 7;
    public const ulong LANDLOCK_ACCESS_FS_MAKE_REG = 1UL << 8;
    public const ulong LANDLOCK_ACCESS_FS_MAKE_SOCK = 1UL << 9;
    public const ulong LANDLOCK_ACCESS_FS_MAKE_FIFO = 1UL << 10;
    public const ulong LANDLOCK_ACCESS_FS_MAKE_BLOCK = 1UL << 11;
    public const ulong LANDLOCK_ACCESS_FS_MAKE_SYM = 1UL << 12;
    public const ulong LANDLOCK_ACCESS_FS_REFER = 1UL << 13;
    public const ulong LANDLOCK_ACCESS_FS_TRUNCATE = 1UL << 14;
    public const ulong LANDLOCK_ACCESS_FS_IOCTL_DEV = 1UL << 15;

    // ABI 4.
    public const ulong LANDLOCK_ACCESS_NET_BIND_TCP = 1UL << 0;
    public const ulong LANDLOCK_ACCESS_NET_CONNECT_TCP = 1UL << 1;

    // ABI 6.
    public const ulong LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1UL << 0;
    public const ulong LANDLOCK_SCOPE_SIGNAL = 1UL << 1;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall3_(long number, nint arg1, nint arg2, nint arg3);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall2_(long number, nint arg1, nint arg2);

    /// <summary>The kernel's Landlock ABI version, or the errno: ENOSYS (not built in),
    /// EOPNOTSUPP (built in but not enabled at boot).</summary>
    public static int GetAbiVersion(out Errno error)
    {
        long r = syscall3_(SYS_landlock_create_ruleset, 0, 0, (nint)LANDLOCK_CREATE_RULESET_VERSION);
        error = r < 0 ? (Errno)Marshal.GetLastPInvokeError() : Errno.None;
        return r < 0 ? 0 : (int)r;
    }

    /// <summary>The fixed-errata bitmask (security/landlock/errata/), or 0 when the kernel cannot tell (EINVAL before the flag existed).</summary>
    public static ulong GetErrata()
    {
        long r = syscall3_(SYS_landlock_create_ruleset, 0, 0, (nint)LANDLOCK_CREATE_RULESET_ERRATA);
        return r < 0 ? 0 : (ulong)r;
    }

    /// <summary>landlock_create_ruleset with the first <paramref name="size"/> bytes of <paramref name="attr"/>.</summary>
    public static SafeFd CreateRuleset(landlock_ruleset_attr attr, int size)
    {
        SafeFd handle = new();
        long fd = syscall3_(SYS_landlock_create_ruleset, (nint)(&attr), size, 0);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError("landlock_create_ruleset");
        }

        Marshal.InitHandle(handle, (nint)fd);
        return handle;
    }

    /// <summary>landlock_restrict_self: the calling thread (and the threads it creates later) enter the ruleset's domain.</summary>
    public static void RestrictSelf(SafeFd ruleset)
    {
        bool added = false;
        try
        {
            ruleset.DangerousAddRef(ref added);
            if (syscall2_(SYS_landlock_restrict_self, ruleset.DangerousGetHandle(), 0) != 0)
            {
                throw ErrnoException.FromLastError("landlock_restrict_self");
            }
        }
        finally
        {
            if (added)
            {
                ruleset.DangerousRelease();
            }
        }
    }
}
