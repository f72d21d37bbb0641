using Safemount.Shared.CommandLine;
using Safemount.Shared.Interop;

namespace Safemount.MountHelper;

/// <summary>The outcome of <see cref="MountOptionPolicy.Apply"/>: what the helper enforces and what it forwards.</summary>
internal sealed record MountPolicy
{
    public bool ReadOnly { get; init; }

    public bool NoSuid { get; init; } = true;

    public bool NoDev { get; init; } = true;

    public bool NoExec { get; init; }

    /// <summary>One of MOUNT_ATTR_RELATIME (default), _NOATIME, _STRICTATIME.</summary>
    public uint AtimeMode { get; init; } = MountInterop.MOUNT_ATTR_RELATIME;

    public bool NoDirAtime { get; init; }

    /// <summary>"nofail": a source that does not exist is not an error (mount(8) FILESYSTEM-INDEPENDENT
    /// MOUNT OPTIONS: "Do not report errors for this device if it does not exist").</summary>
    public bool NoFail { get; init; }

    /// <summary>iomap=auto|on|off (last one wins): whether the helper asks the kernel for the
    /// fuse-iomap data path before mounting. The option is also forwarded to the service.</summary>
    public IomapMode Iomap { get; init; } = IomapMode.Auto;

    /// <summary>Options forwarded to the service, comma-joined in the order given.</summary>
    public string FsOptions { get; init; } = string.Empty;

    /// <summary>Options dropped under -s, one line each.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    /// <summary>fsmount(2) attr_flags for this policy.</summary>
    public uint MountAttributes =>
        (ReadOnly ? MountInterop.MOUNT_ATTR_RDONLY : 0)
        | (NoSuid ? MountInterop.MOUNT_ATTR_NOSUID : 0)
        | (NoDev ? MountInterop.MOUNT_ATTR_NODEV : 0)
        | (NoExec ? MountInterop.MOUNT_ATTR_NOEXEC : 0)
        | AtimeMode
        | (NoDirAtime ? MountInterop.MOUNT_ATTR_NODIRATIME : 0);

    /// <summary>mount(2) MS_* flags for this policy (the fallback path).</summary>
    public ulong MountFlags =>
        (ReadOnly ? MountInterop.MS_RDONLY : 0)
        | (NoSuid ? MountInterop.MS_NOSUID : 0)
        | (NoDev ? MountInterop.MS_NODEV : 0)
        | (NoExec ? MountInterop.MS_NOEXEC : 0)
        | (AtimeMode == MountInterop.MOUNT_ATTR_NOATIME ? MountInterop.MS_NOATIME
            : AtimeMode == MountInterop.MOUNT_ATTR_STRICTATIME ? MountInterop.MS_STRICTATIME : MountInterop.MS_RELATIME)
        | (NoDirAtime ? MountInterop.MS_NODIRATIME : 0);
}
