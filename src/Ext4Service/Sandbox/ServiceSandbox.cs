using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// The service's self-confinement, the same whether systemd, the helper (as root) or a person
/// started it (ARCHITECTURE.md "Sandbox"). Called once, after the device fd has arrived and
/// before the engine reads a byte of it; the --self-test mode runs the same code.
/// </summary>
/// <remarks>
/// Steps, in order; each failure is a <see cref="SandboxException"/> that stops the service
/// before it serves anything, except a kernel without Landlock (logged):
/// <list type="number">
/// <item>Identity. Empty the capability bounding set and lock the securebits while CAP_SETPCAP
/// is still held, then, when any uid is 0 (direct spawn by the root helper), setgroups([]),
/// setresgid and setresuid to 65534 (<see cref="PrivilegeDrop"/>).</item>
/// <item>Descriptors. Close every inherited descriptor but 0, 1, 2 and the handed-over ones
/// (<see cref="InheritedFds"/>: inherited = no FD_CLOEXEC). Program.Main does this first too.</item>
/// <item>no_new_privs, ambient set cleared, effective/permitted/inheritable emptied, all
/// checked (<see cref="PrivilegeDrop.ClearCapabilities"/>).</item>
/// <item>RLIMIT_NOFILE to the highest open fd + headroom, RLIMIT_CORE 0, RLIMIT_NPROC to the
/// uid's tasks + headroom (<see cref="ResourceLimits"/>).</item>
/// <item>Landlock: every access right of the kernel's ABI handled, none allowed
/// (<see cref="LandlockRestriction"/>).</item>
/// <item>seccomp allowlist on every thread (TSYNC), last because it forbids the calls above
/// (<see cref="SeccompPolicy"/>).</item>
/// </list>
/// Fd passing after setup is refused by the protocol layer
/// (<see cref="MessageChannel.StopAcceptingFds"/> at FUSE_FD_ACCEPTED).
/// </remarks>
internal static class ServiceSandbox
{
    /// <summary>
    /// First statement of Main: closes inherited descriptors except 0..2 and fd 3 (the
    /// activation socket, checked and given FD_CLOEXEC by <see cref="ServiceEndpoint.FromSocketActivation"/>).
    /// </summary>
    public static IReadOnlyList<string> CloseInheritedAtStartup() =>
        Step("fds", () => InheritedFds.Close([ServiceEndpoint.ActivationFd]));

    /// <summary>Confines the process; <paramref name="handedOver"/> are the descriptors it keeps
    /// besides 0..2 (the socket and the device; none in the self-test).</summary>
    public static SandboxReport Confine(IReadOnlyList<SafeFd> handedOver)
    {
        // 1. Identity (and the parts of step 3 that need CAP_SETPCAP).
        ulong boundingLeft = PrivilegeDrop.DropBoundingSet();
        bool secureBits = PrivilegeDrop.LockSecureBits();
        bool switched = PrivilegeDrop.SwitchIdentityIfRoot();

        // 2. Descriptors.
        var keep = new HashSet<int>();
        foreach (SafeFd fd in handedOver)
        {
            keep.Add(fd.Fd);
        }

        List<string> closed = Step("fds", () => InheritedFds.Close(keep));

        // 3. no_new_privs and capabilities.
        Step("no_new_privs", PrctlInterop.SetNoNewPrivs);
        PrivilegeDrop.ClearCapabilities(boundingLeft);

        // 4. Resource limits.
        (ulong noFile, ulong nProc) = Step("rlimits", () => ResourceLimits.Apply(InheritedFds.OpenDescriptors().Max()));

        // 5. Landlock.
        int abi = LandlockRestriction.Apply(out string? unavailable);

        // 6. seccomp, on every thread.
        sock_filter[] program = SeccompPolicy.Build(ProcessInterop.GetPid());
        Step("seccomp", () => SeccompInterop.SetModeFilter(program, SeccompInterop.SECCOMP_FILTER_FLAG_TSYNC));
        if (Step("seccomp", PrctlInterop.GetSeccompMode) != 2 || !Step("seccomp", PrctlInterop.GetNoNewPrivs))
        {
            throw new SandboxException("seccomp", "the filter is not in force after seccomp(2) succeeded");
        }

        (uint uid, _, _) = IdentityInterop.GetResUid();
        (uint gid, _, _) = IdentityInterop.GetResGid();
        return new SandboxReport
        {
            Uid = uid,
            Gid = gid,
            SwitchedIdentity = switched,
            ClosedFds = closed,
            BoundingSetLeft = boundingLeft,
            SecureBitsLocked = secureBits,
            NoFileLimit = noFile,
            NProcLimit = nProc,
            LandlockAbi = abi,
            LandlockUnavailable = unavailable,
            SeccompInstructions = program.Length,
        };
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SandboxException(step, e.Message, e);
        }
    }

    private static void Step(string step, Action call) => Step(step, () =>
    {
        call();
        return true;
    });
}
