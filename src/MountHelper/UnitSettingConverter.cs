using System.Globalization;
using Safemount.Shared.DBus;
using Safemount.Shared.Interop;

namespace Safemount.MountHelper;

/// <summary>
/// Turns one unit-file setting into the typed D-Bus properties systemd's transient-unit API takes
/// (org.freedesktop.systemd1(5); the same translation systemd-run -p does in systemd's
/// src/shared/bus-unit-util.c). Only the value forms <see cref="ServiceUnitSettings"/> uses are
/// supported; any other key or form throws <see cref="NotSupportedException"/>, so a new unit
/// setting cannot silently be dropped from the transient unit (a test converts the whole list).
/// </summary>
internal static class UnitSettingConverter
{
    private static readonly HashSet<string> Strings = new(StringComparer.Ordinal)
    {
        "CollectMode", "Type", "StandardOutput", "StandardError", "SyslogIdentifier", "User", "ProtectSystem",
        "ProtectHome", "ProtectProc", "ProcSubset", "DevicePolicy", "KeyringMode", "OOMPolicy", "Description",
    };

    private static readonly HashSet<string> Booleans = new(StringComparer.Ordinal)
    {
        "DefaultDependencies", "DynamicUser", "PrivateUsers", "NoNewPrivileges", "RestrictSUIDSGID", "PrivateTmp",
        "PrivateDevices", "PrivateNetwork", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
        "ProtectControlGroups", "ProtectClock", "ProtectHostname", "RestrictRealtime", "LockPersonality",
        "MemoryDenyWriteExecute", "RemoveIPC", "PrivateMounts", "PrivateIPC",
    };

    private static readonly HashSet<string> StringLists = new(StringComparer.Ordinal)
    {
        "Documentation", "Conflicts", "Before", "InaccessiblePaths", "SystemCallArchitectures",
    };

    /// <summary>securebits names (capabilities(7), securebits.h bit numbers; systemd.exec(5) SecureBits=).</summary>
    private static readonly Dictionary<string, int> SecureBitNames = new(StringComparer.Ordinal)
    {
        ["noroot"] = 1 << 0,
        ["noroot-locked"] = 1 << 1,
        ["no-setuid-fixup"] = 1 << 2,
        ["no-setuid-fixup-locked"] = 1 << 3,
        ["keep-caps"] = 1 << 4,
        ["keep-caps-locked"] = 1 << 5,
    };

    /// <summary>AF_INET and AF_INET6 (socket.h), for IPAddressDeny= entries.</summary>
    private const int AF_INET = 2;
    private const int AF_INET6 = 10;

    /// <summary>The properties one setting becomes (LimitX= becomes LimitX and LimitXSoft).</summary>
    public static IReadOnlyList<DBusProperty> Convert(string key, string value)
    {
        if (Strings.Contains(key))
        {
            return [DBusProperty.String(key, value)];
        }

        if (Booleans.Contains(key))
        {
            return [DBusProperty.Boolean(key, ParseBoolean(key, value))];
        }

        if (StringLists.Contains(key))
        {
            return [DBusProperty.StringArray(key, Words(value))];
        }

        switch (key)
        {
            case "CapabilityBoundingSet":
            case "AmbientCapabilities":
                // Empty = no capability at all (the only form the unit uses).
                return value.Length == 0 ? [DBusProperty.UInt64(key, 0)] : throw Unsupported(key, value);
            case "SecureBits":
                int bits = 0;
                foreach (string w in Words(value))
                {
                    bits |= SecureBitNames.TryGetValue(w, out int b) ? b : throw Unsupported(key, value);
                }

                return [DBusProperty.Int32(key, bits)];
            case "UMask":
                return [DBusProperty.UInt32(key, System.Convert.ToUInt32(value, 8))];
            case "RestrictAddressFamilies":
            case "SystemCallFilter":
                return [FilterList(key, value)];
            case "RestrictNamespaces":
                // The property holds the namespaces still allowed: yes = none of them.
                return ParseBoolean(key, value) ? [DBusProperty.UInt64(key, 0)] : throw Unsupported(key, value);
            case "SystemCallErrorNumber":
                return Enum.TryParse(value, ignoreCase: false, out Errno e) && e != Errno.None
                    ? [DBusProperty.Int32(key, (int)e)]
                    : throw Unsupported(key, value);
            case "LimitNOFILE":
            case "LimitCORE":
                ulong limit = ulong.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                return [DBusProperty.UInt64(key, limit), DBusProperty.UInt64(key + "Soft", limit)];
            case "TasksMax":
                return [DBusProperty.UInt64(key, ulong.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture))];
            case "MemoryMax":
                return [DBusProperty.UInt64(key, ParseSize(key, value))];
            case "OOMScoreAdjust":
                return [DBusProperty.Int32(key, int.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture))];
            case "IPAddressDeny":
                // "any" is 0.0.0.0/0 and ::/0 (systemd.resource-control(5)).
                return value == "any" ? [IpAddressAny(key)] : throw Unsupported(key, value);
            default:
                throw Unsupported(key, value);
        }
    }

    /// <summary>(bas): allow-list flag and the names; "~" makes it a deny list, "none" an empty allow list.</summary>
    private static DBusProperty FilterList(string key, string value)
    {
        bool allow = !value.StartsWith('~');
        IReadOnlyList<string> names = Words(allow ? value : value[1..]);
        if (key == "RestrictAddressFamilies" && value == "none")
        {
            names = [];
        }

        return new DBusProperty(key, "(bas)", w =>
        {
            w.BeginStruct();
            w.WriteBoolean(allow);
            w.WriteStringArray(names);
        });
    }

    /// <summary>a(iayu): (family, address bytes, prefix length) for 0.0.0.0/0 and ::/0.</summary>
    private static DBusProperty IpAddressAny(string key) => new(key, "a(iayu)", w =>
    {
        DBusWriter.ArrayToken list = w.BeginArray(8);
        foreach ((int family, int bytes) in new[] { (AF_INET, 4), (AF_INET6, 16) })
        {
            w.BeginStruct();
            w.WriteInt32(family);
            DBusWriter.ArrayToken addr = w.BeginArray(1);
            for (int i = 0; i < bytes; i++)
            {
                w.WriteByte(0);
            }

            w.EndArray(addr);
            w.WriteUInt32(0);
        }

        w.EndArray(list);
    });

    /// <summary>A size with an optional K, M, G or T suffix, base 1024 (systemd.resource-control(5) MemoryMax=).</summary>
    private static ulong ParseSize(string key, string value)
    {
        int shift = value.Length == 0 ? 0 : value[^1] switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        string digits = shift == 0 ? value : value[..^1];
        return ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) && n <= ulong.MaxValue >> shift
            ? n << shift
            : throw Unsupported(key, value);
    }

    private static bool ParseBoolean(string key, string value) => value switch
    {
        "yes" or "true" or "on" or "1" => true,
        "no" or "false" or "off" or "0" => false,
        _ => throw Unsupported(key, value),
    };

    private static string[] Words(string value) => value.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static NotSupportedException Unsupported(string key, string value) =>
        new($"unit setting {key}={value} has no transient-unit translation");
}
