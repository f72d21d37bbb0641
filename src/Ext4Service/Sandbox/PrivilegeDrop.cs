using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// Identity and capabilities: steps 1 and 3 of <see cref="ServiceSandbox"/>.
/// </summary>
/// <remarks>
/// Order matters (security/commoncap.c): PR_CAPBSET_DROP and PR_SET_SECUREBITS need
/// CAP_SETPCAP, which setresuid away from uid 0 clears (cap_emulate_setxuid), so when started
/// as root the bounding set is emptied and the securebits locked before the uid changes.
/// Capability sets are per thread: glibc's setresuid reaches every thread (nptl setxid), and the
/// kernel clears permitted/effective/ambient in each; capset and the bounding set act on the
/// calling thread, which is the one that creates the FUSE workers afterwards.
/// </remarks>
internal static class PrivilegeDrop
{
    /// <summary>
    /// The identity a root-started service switches to: nobody/nogroup (65534), which owns no
    /// files by convention and exists on every distribution without a lookup (the service
    /// must not read /etc/passwd: NSS could load modules). Services started by systemd already
    /// run as a DynamicUser and never reach this.
    /// </summary>
    public const uint UnprivilegedUid = 65534;

    public const uint UnprivilegedGid = 65534;

    /// <summary>The securebits a root-started service locks: no root semantics, no keeping
    /// capabilities across the uid change, no raising ambient capabilities.</summary>
    public const uint LockedSecureBits =
        PrctlInterop.SECBIT_NOROOT | PrctlInterop.SECBIT_NOROOT_LOCKED
        | PrctlInterop.SECBIT_NO_SETUID_FIXUP_LOCKED
        | PrctlInterop.SECBIT_KEEP_CAPS_LOCKED
        | PrctlInterop.SECBIT_NO_CAP_AMBIENT_RAISE | PrctlInterop.SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

    /// <summary>
    /// Empties the bounding set (PR_CAPBSET_DROP for every capability up to the kernel's last,
    /// found by probing PR_CAPBSET_READ until EINVAL; /proc/sys may be hidden). Returns the
    /// capabilities left in it: none, unless the process was started unprivileged with a full
    /// bounding set and no CAP_SETPCAP, when the kernel forbids the drop. Such a set is inert:
    /// with no_new_privs an execve grants no file capabilities (security/commoncap.c
    /// cap_bprm_creds_from_file), and seccomp denies execve anyway. A capability that cannot be
    /// dropped while CAP_SETPCAP is held is an error.
    /// </summary>
    public static ulong DropBoundingSet()
    {
        (ulong effective, _, _) = Step("capabilities", CapabilityInterop.Get);
        bool canDrop = (effective & (1UL << CapabilityInterop.CAP_SETPCAP)) != 0;
        ulong left = 0;
        for (int cap = 0; ; cap++)
        {
            bool? present = Step("capabilities", () => PrctlInterop.CapBoundingSetRead(cap));
            if (present is null)
            {
                return left;
            }

            if (!present.Value)
            {
                continue;
            }

            if (canDrop)
            {
                Step("capabilities", () => PrctlInterop.CapBoundingSetDrop(cap), $"cannot drop capability {cap} from the bounding set");
            }
            else
            {
                left |= 1UL << cap;
            }
        }
    }

    /// <summary>Locks <see cref="LockedSecureBits"/> when this thread holds CAP_SETPCAP (the
    /// root start). Without it the bits cannot be set and there is no root identity to
    /// protect (systemd's unit sets SecureBits=noroot-locked itself).</summary>
    public static bool LockSecureBits()
    {
        (ulong effective, _, _) = Step("capabilities", CapabilityInterop.Get);
        if ((effective & (1UL << CapabilityInterop.CAP_SETPCAP)) == 0)
        {
            return false;
        }

        uint current = Step("capabilities", PrctlInterop.GetSecureBits);
        Step("capabilities", () => PrctlInterop.SetSecureBits(current | LockedSecureBits), "cannot lock the securebits");
        return true;
    }

    /// <summary>
    /// When any of the real, effective or saved uids is 0: no supplementary groups,
    /// setresgid then setresuid to <see cref="UnprivilegedGid"/>/<see cref="UnprivilegedUid"/>,
    /// and a check that no id is 0 afterwards. Returns false when not running as root.
    /// </summary>
    public static bool SwitchIdentityIfRoot()
    {
        (uint ruid, uint euid, uint suid) = Step("identity", IdentityInterop.GetResUid);
        if (ruid != 0 && euid != 0 && suid != 0)
        {
            return false;
        }

        Step("identity", IdentityInterop.ClearSupplementaryGroups, "setgroups([])");
        Step("identity", () => IdentityInterop.SetAllGids(UnprivilegedGid), $"setresgid({UnprivilegedGid})");
        Step("identity", () => IdentityInterop.SetAllUids(UnprivilegedUid), $"setresuid({UnprivilegedUid})");

        (uint r, uint e, uint s) = Step("identity", IdentityInterop.GetResUid);
        (uint rg, uint eg, uint sg) = Step("identity", IdentityInterop.GetResGid);
        if (r == 0 || e == 0 || s == 0 || rg == 0 || eg == 0 || sg == 0)
        {
            throw new SandboxException("identity", $"still uid {r}/{e}/{s} gid {rg}/{eg}/{sg} after the switch");
        }

        return true;
    }

    /// <summary>
    /// Clears the ambient set and the effective/permitted/inheritable sets (capset only when
    /// one is non-empty: under systemd the unit's seccomp filter denies capset, and there is
    /// nothing to clear), then checks that the three sets and the ambient set are empty and the
    /// bounding set holds no more than <paramref name="boundingLeft"/> (see <see cref="DropBoundingSet"/>).
    /// </summary>
    public static void ClearCapabilities(ulong boundingLeft)
    {
        Step("capabilities", PrctlInterop.AmbientClearAll, "PR_CAP_AMBIENT_CLEAR_ALL");
        (ulong eff, ulong prm, ulong inh) = Step("capabilities", CapabilityInterop.Get);
        if ((eff | prm | inh) != 0)
        {
            Step("capabilities", CapabilityInterop.ClearAll, "capset to empty sets");
            (eff, prm, inh) = Step("capabilities", CapabilityInterop.Get);
        }

        if ((eff | prm | inh) != 0)
        {
            throw new SandboxException("capabilities", $"capabilities remain: effective {eff:x}, permitted {prm:x}, inheritable {inh:x}");
        }

        for (int cap = 0; ; cap++)
        {
            bool? bounding = Step("capabilities", () => PrctlInterop.CapBoundingSetRead(cap));
            if (bounding is null)
            {
                break;
            }

            bool unexpected = bounding.Value && (boundingLeft & (1UL << cap)) == 0;
            if (unexpected || Step("capabilities", () => PrctlInterop.AmbientIsSet(cap)) == true)
            {
                throw new SandboxException("capabilities", $"capability {cap} remains in the bounding or ambient set");
            }
        }
    }

    private static T Step<T>(string step, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (ErrnoException e)
        {
            throw new SandboxException(step, e.Message, e);
        }
    }

    private static void Step(string step, Action call, string what)
    {
        try
        {
            call();
        }
        catch (ErrnoException e)
        {
            throw new SandboxException(step, $"{what}: {e.Message}", e);
        }
    }
}
