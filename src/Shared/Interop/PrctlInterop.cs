using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// prctl(2) options used by the service's self-confinement (linux/prctl.h). Every option here
/// acts on the calling thread's credentials (kernel/sys.c prctl, security/commoncap.c
/// cap_task_prctl) except where noted; errno is read right after each call.
/// </summary>
public static partial class PrctlInterop
{
    public const int PR_SET_NAME = 15;
    public const int PR_GET_NAME = 16;
    public const int PR_GET_SECCOMP = 21;
    public const int PR_CAPBSET_READ = 23;
    public const int PR_CAPBSET_DROP = 24;
    public const int PR_GET_SECUREBITS = 27;
    public const int PR_SET_SECUREBITS = 28;
    public const int PR_SET_NO_NEW_PRIVS = 38;
    public const int PR_GET_NO_NEW_PRIVS = 39;
    public const int PR_CAP_AMBIENT = 47;
    public const int PR_CAP_AMBIENT_IS_SET = 1;
    public const int PR_CAP_AMBIENT_CLEAR_ALL = 4;

    /// <summary>linux/securebits.h: SECBIT_NOROOT and its lock (bits 0, 1).</summary>
    public const uint SECBIT_NOROOT = 1 << 0;
    public const uint SECBIT_NOROOT_LOCKED = 1 << 1;

    /// <summary>SECBIT_NO_SETUID_FIXUP (bit 2) and its lock (bit 3).</summary>
    public const uint SECBIT_NO_SETUID_FIXUP = 1 << 2;
    public const uint SECBIT_NO_SETUID_FIXUP_LOCKED = 1 << 3;

    /// <summary>SECBIT_KEEP_CAPS (bit 4) and its lock (bit 5).</summary>
    public const uint SECBIT_KEEP_CAPS = 1 << 4;
    public const uint SECBIT_KEEP_CAPS_LOCKED = 1 << 5;

    /// <summary>SECBIT_NO_CAP_AMBIENT_RAISE (bit 6) and its lock (bit 7).</summary>
    public const uint SECBIT_NO_CAP_AMBIENT_RAISE = 1 << 6;
    public const uint SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << 7;

    // prctl is variadic in glibc; every argument is passed as an unsigned long, as the kernel reads them.
    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int prctl_(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>PR_SET_NO_NEW_PRIVS 1: execve never grants privileges again (inherited by every later thread and child).</summary>
    public static void SetNoNewPrivs()
    {
        if (prctl_(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        {
            throw ErrnoException.FromLastError("prctl(PR_SET_NO_NEW_PRIVS)");
        }
    }

    /// <summary>PR_GET_NO_NEW_PRIVS.</summary>
    public static bool GetNoNewPrivs()
    {
        int r = prctl_(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        if (r < 0)
        {
            throw ErrnoException.FromLastError("prctl(PR_GET_NO_NEW_PRIVS)");
        }

        return r == 1;
    }

    /// <summary>PR_GET_SECCOMP: 0 none, 1 strict, 2 filter.</summary>
    public static int GetSeccompMode()
    {
        int r = prctl_(PR_GET_SECCOMP, 0, 0, 0, 0);
        if (r < 0)
        {
            throw ErrnoException.FromLastError("prctl(PR_GET_SECCOMP)");
        }

        return r;
    }

    /// <summary>
    /// PR_CAPBSET_READ: true when <paramref name="cap"/> is in the bounding set, false when not,
    /// null when the kernel does not know the capability (EINVAL: past cap_last_cap).
    /// </summary>
    public static bool? CapBoundingSetRead(int cap)
    {
        int r = prctl_(PR_CAPBSET_READ, (nuint)cap, 0, 0, 0);
        if (r >= 0)
        {
            return r == 1;
        }

        Errno e = (Errno)Marshal.GetLastPInvokeError();
        if (e == Errno.EINVAL)
        {
            return null;
        }

        throw new ErrnoException($"prctl(PR_CAPBSET_READ, {cap})", e);
    }

    /// <summary>PR_CAPBSET_DROP (needs CAP_SETPCAP in the calling thread).</summary>
    public static void CapBoundingSetDrop(int cap)
    {
        if (prctl_(PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0) != 0)
        {
            throw ErrnoException.FromLastError($"prctl(PR_CAPBSET_DROP, {cap})");
        }
    }

    /// <summary>PR_CAP_AMBIENT_CLEAR_ALL (needs no privilege).</summary>
    public static void AmbientClearAll()
    {
        if (prctl_(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        {
            throw ErrnoException.FromLastError("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
        }
    }

    /// <summary>PR_CAP_AMBIENT_IS_SET; null when the kernel does not know the capability.</summary>
    public static bool? AmbientIsSet(int cap)
    {
        int r = prctl_(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (nuint)cap, 0, 0);
        if (r >= 0)
        {
            return r == 1;
        }

        Errno e = (Errno)Marshal.GetLastPInvokeError();
        if (e == Errno.EINVAL)
        {
            return null;
        }

        throw new ErrnoException($"prctl(PR_CAP_AMBIENT_IS_SET, {cap})", e);
    }

    /// <summary>PR_GET_SECUREBITS.</summary>
    public static uint GetSecureBits()
    {
        int r = prctl_(PR_GET_SECUREBITS, 0, 0, 0, 0);
        if (r < 0)
        {
            throw ErrnoException.FromLastError("prctl(PR_GET_SECUREBITS)");
        }

        return (uint)r;
    }

    /// <summary>PR_SET_SECUREBITS (needs CAP_SETPCAP; a locked bit cannot change).</summary>
    public static void SetSecureBits(uint bits)
    {
        if (prctl_(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0)
        {
            throw ErrnoException.FromLastError("prctl(PR_SET_SECUREBITS)");
        }
    }
}
