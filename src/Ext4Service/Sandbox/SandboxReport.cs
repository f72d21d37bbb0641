namespace Safemount.Ext4Service.Sandbox;

/// <summary>What <see cref="ServiceSandbox.Confine"/> applied, for the log and the self-test.</summary>
internal sealed record SandboxReport
{
    /// <summary>Real uid and gid after confinement.</summary>
    public required uint Uid { get; init; }

    public required uint Gid { get; init; }

    /// <summary>True when the service started as root and switched to 65534.</summary>
    public required bool SwitchedIdentity { get; init; }

    /// <summary>Inherited descriptors closed in this step, "N (target)".</summary>
    public required IReadOnlyList<string> ClosedFds { get; init; }

    /// <summary>Capabilities left in the bounding set (see <see cref="PrivilegeDrop.DropBoundingSet"/>); 0 normally.</summary>
    public required ulong BoundingSetLeft { get; init; }

    public required bool SecureBitsLocked { get; init; }

    public required ulong NoFileLimit { get; init; }

    public required ulong NProcLimit { get; init; }

    /// <summary>The Landlock ABI enforced; 0 when the kernel has none.</summary>
    public required int LandlockAbi { get; init; }

    /// <summary>Why Landlock is not enforced, when it is not.</summary>
    public string? LandlockUnavailable { get; init; }

    /// <summary>Instructions in the seccomp program.</summary>
    public required int SeccompInstructions { get; init; }
}
