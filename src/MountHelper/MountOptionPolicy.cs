using Safemount.Shared.CommandLine;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>
/// The one place that decides mount policy from "-o": nosuid,nodev unless suid/dev is given;
/// ro/rw; exec/noexec; atime modes; mount(8) userspace-only options ignored; every other
/// option forwarded to the service, which rejects what it does not know. Later options win.
/// A syntactically bad option is a usage error, or with -s dropped with a warning.
/// The list is split as libmount splits it (<see cref="MountOptionList"/>: commas inside double
/// quotes do not separate). "remount" is refused with a mount failure: a safe.ext4 mount has
/// no in-place reconfiguration (the service holds its options for the life of the mount).
/// </summary>
internal static class MountOptionPolicy
{
    /// <summary>mount(8) options that only mean something to mount(8) itself (fstab, mtab).</summary>
    private static readonly HashSet<string> UserspaceOnly = new(StringComparer.Ordinal)
    {
        "defaults", "auto", "noauto", "user", "nouser", "users", "owner", "group", "_netdev", "nofail", "loop",
    };

    /// <summary>Options the helper enforces and never forwards (the kernel-side FUSE options included).</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "fd", "rootmode", "user_id", "group_id", "default_permissions", "allow_other", "blksize", "max_read", "subtype", "source",
    };

    /// <summary>The answer to "mount -o remount": mount(8) runs the helper for a remount of a
    /// helper-mounted type (libmount only skips helpers for bind, move and propagation changes).</summary>
    public const string RemountRefusal =
        "remount is not supported by safe.ext4: unmount it (umount DIR) and mount it again with the new options; "
        + "per-mount flags alone can be changed with 'mount -o remount,bind,ro DIR'";

    public static MountPolicy Apply(string options, bool sloppy)
    {
        MountPolicy p = new();
        List<string> forward = new();
        List<string> warnings = new();
        List<string> items = MountOptionList.Split(options, out string? splitError)
            ?? throw new UsageException(splitError!);
        if (items.Contains("remount"))
        {
            throw new MountFailureException(RemountRefusal, HelperExitCode.MountFailure);
        }

        foreach (string item in items)
        {
            int eq = item.IndexOf('=');
            string key = eq < 0 ? item : item[..eq];
            string? value = eq < 0 ? null : item[(eq + 1)..];
            string? problem = Check(key, value);
            if (problem is null)
            {
                switch (key)
                {
                    case "ro": p = p with { ReadOnly = true }; continue;
                    case "rw": p = p with { ReadOnly = false }; continue;
                    case "suid": p = p with { NoSuid = false }; continue;
                    case "nosuid": p = p with { NoSuid = true }; continue;
                    case "dev": p = p with { NoDev = false }; continue;
                    case "nodev": p = p with { NoDev = true }; continue;
                    case "exec": p = p with { NoExec = false }; continue;
                    case "noexec": p = p with { NoExec = true }; continue;
                    case "noatime": p = p with { AtimeMode = MountInterop.MOUNT_ATTR_NOATIME }; continue;
                    case "relatime": p = p with { AtimeMode = MountInterop.MOUNT_ATTR_RELATIME }; continue;
                    case "strictatime": p = p with { AtimeMode = MountInterop.MOUNT_ATTR_STRICTATIME }; continue;
                    case "nodiratime": p = p with { NoDirAtime = true }; continue;
                    case "diratime": p = p with { NoDirAtime = false }; continue;
                }

                if (key == IomapOption.Name)
                {
                    // Acted on here (before mount) and forwarded, so the service holds the same mode.
                    IomapOption.TryParse(value, out IomapMode mode);
                    p = p with { Iomap = mode };
                    forward.Add(item);
                    continue;
                }

                if (key == "nofail" && value is null)
                {
                    p = p with { NoFail = true };
                    continue;
                }

                if (value is null && UserspaceOnly.Contains(key))
                {
                    continue;
                }

                if (key.StartsWith("x-", StringComparison.Ordinal) || key == "comment" || (key == "user" && value is not null))
                {
                    continue;
                }

                forward.Add(item);
                continue;
            }

            if (!sloppy)
            {
                throw new UsageException($"option '{TextSanitizer.OneLine(item)}': {problem}");
            }

            warnings.Add($"ignoring option '{TextSanitizer.OneLine(item)}': {problem}");
        }

        string joined = string.Join(',', forward);
        if (System.Text.Encoding.UTF8.GetByteCount(joined) > ProtocolLimits.MaxOptionsBytes)
        {
            throw new UsageException($"options longer than {ProtocolLimits.MaxOptionsBytes} bytes");
        }

        return p with { FsOptions = joined, Warnings = warnings };
    }

    /// <summary>Returns why an option is malformed, or null.</summary>
    private static string? Check(string key, string? value)
    {
        if (key.Length == 0)
        {
            return "empty option name";
        }

        foreach (char c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return "option names are letters, digits, '_', '-' and '.'";
            }
        }

        if (value is not null && value.Any(c => char.IsControl(c)))
        {
            return "control character in value";
        }

        bool flagOnly = key is "ro" or "rw" or "suid" or "nosuid" or "dev" or "nodev" or "exec" or "noexec"
            or "noatime" or "relatime" or "strictatime" or "nodiratime" or "diratime";
        if (flagOnly && value is not null)
        {
            return "takes no value";
        }

        if (key == IomapOption.Name && !IomapOption.TryParse(value, out _))
        {
            return $"takes {IomapOption.ValidValues}";
        }

        if (Reserved.Contains(key))
        {
            return "set by mount.safe.ext4 itself";
        }

        return null;
    }
}
