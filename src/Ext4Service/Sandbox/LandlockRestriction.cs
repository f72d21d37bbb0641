using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// Step 5 of <see cref="ServiceSandbox"/>: a Landlock domain that handles every access right
/// the kernel's ABI knows and allows none (no rules), so no path can be opened, created,
/// removed, executed or truncated, no TCP port bound or connected, and (ABI 6) no signal sent
/// and no abstract unix socket reached outside the domain.
/// </summary>
/// <remarks>
/// Landlock domains belong to threads (security/landlock/syscalls.c landlock_restrict_self
/// replaces the caller's credentials only; kernel 6.18 has no thread-sync flag): the thread
/// that confines itself and every thread it creates later (the FUSE workers, the logger
/// factory's builder and the console logger's thread, Hosting/LoggerStartup) are in the domain;
/// threads the runtime started earlier (the finalizer) are not. seccomp, installed
/// with TSYNC on every thread, denies them open/openat/socket/execve anyway. Descriptors opened
/// before (the device, /dev/fuse, the socket) keep their access: Landlock checks at open time.
/// </remarks>
internal static class LandlockRestriction
{
    /// <summary>Erratum 2 in the errata bitmask: signals between threads of one process are always allowed.</summary>
    private const ulong SignalScopeErratum = 1UL << (2 - 1);

    /// <summary>ABI 1: EXECUTE..MAKE_SYM (bits 0..12).</summary>
    private const ulong FsAbi1 = (1UL << 13) - 1;

    /// <summary>Applies the domain; returns the ABI version used, or 0 when Landlock is out of
    /// reach (ENOSYS: not built; EOPNOTSUPP: not enabled at boot; EPERM: an outer seccomp filter
    /// denies it), with <paramref name="unavailable"/> saying which. Any failure after the
    /// version query is an error.</summary>
    public static int Apply(out string? unavailable)
    {
        int abi = LandlockInterop.GetAbiVersion(out Errno error);
        if (abi <= 0)
        {
            if (error is Errno.ENOSYS or Errno.EOPNOTSUPP)
            {
                unavailable = $"Landlock is not available on this kernel ({ErrnoException.Describe(error)})";
                return 0;
            }

            // The version query needs no privilege, so EPERM comes from a seccomp filter around
            // the service (systemd-nspawn's denies the Landlock calls): Landlock is out of reach.
            if (error == Errno.EPERM)
            {
                unavailable = "Landlock is denied by a seccomp filter around the service (EPERM on the version query)";
                return 0;
            }

            throw new SandboxException("landlock", $"landlock_create_ruleset(VERSION): {ErrnoException.Describe(error)}");
        }

        unavailable = null;
        landlock_ruleset_attr attr = AttrFor(abi, LandlockInterop.GetErrata(), out int size);
        try
        {
            using SafeFd ruleset = LandlockInterop.CreateRuleset(attr, size);
            LandlockInterop.RestrictSelf(ruleset);
        }
        catch (ErrnoException e)
        {
            throw new SandboxException("landlock", e.Message, e);
        }

        return abi;
    }

    /// <summary>
    /// The ruleset attribute for <paramref name="abi"/> and how many of its bytes that ABI reads.
    /// LANDLOCK_SCOPE_SIGNAL only where erratum 2 (security/landlock/errata/abi-6.h) is fixed:
    /// before the fix it also blocked signals between threads of one process in different
    /// domains, and the runtime signals its own threads (GC suspension), some of which are
    /// outside the domain (see the class remarks).
    /// </summary>
    public static landlock_ruleset_attr AttrFor(int abi, ulong errata, out int size)
    {
        ulong fs = FsAbi1;
        if (abi >= 2)
        {
            fs |= LandlockInterop.LANDLOCK_ACCESS_FS_REFER;
        }

        if (abi >= 3)
        {
            fs |= LandlockInterop.LANDLOCK_ACCESS_FS_TRUNCATE;
        }

        if (abi >= 5)
        {
            fs |= LandlockInterop.LANDLOCK_ACCESS_FS_IOCTL_DEV;
        }

        var attr = new landlock_ruleset_attr { handled_access_fs = fs };
        size = sizeof(ulong);
        if (abi >= 4)
        {
            attr.handled_access_net = LandlockInterop.LANDLOCK_ACCESS_NET_BIND_TCP | LandlockInterop.LANDLOCK_ACCESS_NET_CONNECT_TCP;
            size = 2 * sizeof(ulong);
        }

        if (abi >= 6)
        {
            attr.scoped = LandlockInterop.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
                | ((errata & SignalScopeErratum) != 0 ? LandlockInterop.LANDLOCK_SCOPE_SIGNAL : 0);
            size = 3 * sizeof(ulong);
        }

        return attr;
    }
}
