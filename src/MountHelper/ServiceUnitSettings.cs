namespace Safemount.MountHelper;

/// <summary>
/// The [Unit] and [Service] settings of packaging/systemd/safemount-ext4@.service, as the unit
/// file spells them, in its order: the one list the transient unit is built from
/// (<see cref="TransientUnitProperties"/>). ServiceUnitSettingsTests fails when the file and this
/// list differ, so a hardening change is made in both or the build is red.
/// Left out here, because the transient unit sets them differently: Description (names the
/// connection with %i), ExecStart (@LIBEXECDIR@ is substituted at install time; the helper uses
/// its own service path) and StandardInput (the transient unit's standard input is the
/// connection, StandardInputFileDescriptor=).
/// </summary>
internal static class ServiceUnitSettings
{
    /// <summary>Keys of the unit file the transient unit replaces (see the summary).</summary>
    public static readonly IReadOnlySet<string> Replaced = new HashSet<string>(StringComparer.Ordinal)
    {
        "Description", "ExecStart", "StandardInput",
    };

    /// <summary>(key, value) exactly as in the unit file, in its order.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> Settings =
    [
        // [Unit]
        new("Documentation", "file:///usr/share/doc/safemount/README.md"),
        new("DefaultDependencies", "no"),
        new("Conflicts", "shutdown.target"),
        new("Before", "shutdown.target"),
        new("CollectMode", "inactive-or-failed"),

        // [Service]
        new("Type", "exec"),
        new("StandardOutput", "journal"),
        new("StandardError", "journal"),
        new("SyslogIdentifier", "safemount-ext4"),
        new("DynamicUser", "yes"),
        new("User", "safemount-ext4"),
        new("PrivateUsers", "yes"),
        new("NoNewPrivileges", "yes"),
        new("CapabilityBoundingSet", string.Empty),
        new("AmbientCapabilities", string.Empty),
        new("SecureBits", "noroot-locked"),
        new("RestrictSUIDSGID", "yes"),
        new("UMask", "0077"),
        new("ProtectSystem", "strict"),
        new("ProtectHome", "yes"),
        new("PrivateTmp", "yes"),
        new("ProtectProc", "invisible"),
        new("ProcSubset", "pid"),
        new("InaccessiblePaths", "-/var -/srv -/opt -/boot"),
        new("PrivateDevices", "yes"),
        new("DevicePolicy", "closed"),
        new("PrivateNetwork", "yes"),
        new("IPAddressDeny", "any"),
        new("RestrictAddressFamilies", "none"),
        new("ProtectKernelTunables", "yes"),
        new("ProtectKernelModules", "yes"),
        new("ProtectKernelLogs", "yes"),
        new("ProtectControlGroups", "yes"),
        new("ProtectClock", "yes"),
        new("ProtectHostname", "yes"),
        new("RestrictNamespaces", "yes"),
        new("RestrictRealtime", "yes"),
        new("LockPersonality", "yes"),
        new("MemoryDenyWriteExecute", "yes"),
        new("RemoveIPC", "yes"),
        new("KeyringMode", "private"),
        new("PrivateMounts", "yes"),
        new("PrivateIPC", "yes"),
        new("SystemCallArchitectures", "native"),
        new("SystemCallFilter", "@system-service"),
        new("SystemCallFilter", "~@privileged @resources @mount @swap @reboot @raw-io @module @debug @cpu-emulation @obsolete @clock"),
        new("SystemCallFilter", "seccomp landlock_create_ruleset landlock_restrict_self"),
        new("SystemCallErrorNumber", "EPERM"),
        new("LimitNOFILE", "64"),
        new("LimitCORE", "0"),
        new("TasksMax", "64"),
        new("MemoryMax", "1G"),
        new("OOMScoreAdjust", "500"),
        new("OOMPolicy", "kill"),
    ];
}
