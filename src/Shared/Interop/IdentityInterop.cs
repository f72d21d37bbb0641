using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// Process credentials: getresuid/getresgid, setgroups, setresgid, setresuid. glibc applies the
/// set* calls to every thread of the process (nptl's setxid broadcast), as POSIX requires,
/// although the kernel's credentials are per thread.
/// </summary>
public static unsafe partial class IdentityInterop
{
    [LibraryImport("libc", EntryPoint = "getresuid", SetLastError = true)]
    private static partial int getresuid_(uint* ruid, uint* euid, uint* suid);

    [LibraryImport("libc", EntryPoint = "getresgid", SetLastError = true)]
    private static partial int getresgid_(uint* rgid, uint* egid, uint* sgid);

    [LibraryImport("libc", EntryPoint = "setgroups", SetLastError = true)]
    private static partial int setgroups_(nuint size, uint* list);

    [LibraryImport("libc", EntryPoint = "setresgid", SetLastError = true)]
    private static partial int setresgid_(uint rgid, uint egid, uint sgid);

    [LibraryImport("libc", EntryPoint = "setresuid", SetLastError = true)]
    private static partial int setresuid_(uint ruid, uint euid, uint suid);

    public static (uint Real, uint Effective, uint Saved) GetResUid()
    {
        uint r, e, s;
        if (getresuid_(&r, &e, &s) != 0)
        {
            throw ErrnoException.FromLastError("getresuid");
        }

        return (r, e, s);
    }

    public static (uint Real, uint Effective, uint Saved) GetResGid()
    {
        uint r, e, s;
        if (getresgid_(&r, &e, &s) != 0)
        {
            throw ErrnoException.FromLastError("getresgid");
        }

        return (r, e, s);
    }

    /// <summary>setgroups(0, NULL): no supplementary groups.</summary>
    public static void ClearSupplementaryGroups()
    {
        if (setgroups_(0, null) != 0)
        {
            throw ErrnoException.FromLastError("setgroups");
        }
    }

    /// <summary>setresgid(gid, gid, gid).</summary>
    public static void SetAllGids(uint gid)
    {
        if (setresgid_(gid, gid, gid) != 0)
        {
            throw ErrnoException.FromLastError("setresgid");
        }
    }

    /// <summary>setresuid(uid, uid, uid). From 0 to non-zero this clears the permitted,
    /// effective and ambient sets (security/commoncap.c cap_emulate_setxuid) unless SECBIT_KEEP_CAPS.</summary>
    public static void SetAllUids(uint uid)
    {
        if (setresuid_(uid, uid, uid) != 0)
        {
            throw ErrnoException.FromLastError("setresuid");
        }
    }
}
