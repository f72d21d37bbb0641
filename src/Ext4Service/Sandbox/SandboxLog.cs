using Microsoft.Extensions.Logging;

namespace Safemount.Ext4Service.Sandbox;

/// <summary>Log lines of the sandbox. Event ids 200–299 are the sandbox's; never renumber.</summary>
internal static partial class SandboxLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "confined: uid {Uid} gid {Gid}{Switched}, no capabilities, no_new_privs, RLIMIT_NOFILE {NoFile}, RLIMIT_NPROC {NProc}, RLIMIT_CORE 0, Landlock ABI {LandlockAbi}, seccomp allowlist of {Instructions} instructions")]
    public static partial void Confined(ILogger logger, uint uid, uint gid, string switched, ulong noFile, ulong nProc, int landlockAbi, int instructions);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "closed inherited file descriptor {Fd}")]
    public static partial void ClosedInheritedFd(ILogger logger, string fd);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "{Reason}: running without a Landlock domain (seccomp still denies every path-based call)")]
    public static partial void LandlockUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "the bounding set keeps capabilities {Mask:x} (started unprivileged without CAP_SETPCAP: the kernel forbids dropping them; inert under no_new_privs)")]
    public static partial void BoundingSetKept(ILogger logger, ulong mask);
}
