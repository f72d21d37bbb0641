using Safemount.Shared.DBus;
using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>
/// The properties of the transient unit that serves one mount when no socket unit is installed:
/// every hardening setting of safemount-ext4@.service (<see cref="ServiceUnitSettings"/>), plus
/// what the template gets from socket activation: ExecStart, a Description, and the connection
/// itself as StandardInputFileDescriptor (fd 0 in the service, announced by
/// SAFEMOUNT_SOCKET_FD=0), as `systemd-run --pipe` passes its stdin.
/// </summary>
internal static class TransientServiceUnit
{
    /// <summary>Index of the connection in the fds passed with StartTransientUnit.</summary>
    public const uint ConnectionFdIndex = 0;

    public static IReadOnlyList<DBusProperty> Properties(string servicePath, string source, IReadOnlyList<string> environment)
    {
        List<DBusProperty> p =
        [
            DBusProperty.String("Description", $"safemount ext4 filesystem service (transient, {source})"),
            new DBusProperty("ExecStart", "a(sasb)", w =>
            {
                DBusWriter.ArrayToken commands = w.BeginArray(8);
                w.BeginStruct();
                w.WriteString(servicePath);
                w.WriteStringArray([servicePath]);
                w.WriteBoolean(false);
                w.EndArray(commands);
            }),
            DBusProperty.UnixFd("StandardInputFileDescriptor", ConnectionFdIndex),
            DBusProperty.StringArray("Environment", [$"{ServiceEndpoint.DirectSpawnVariable}={ServiceEndpoint.TransientUnitFd}", .. environment]),
        ];
        foreach (KeyValuePair<string, string> s in ServiceUnitSettings.Settings)
        {
            p.AddRange(UnitSettingConverter.Convert(s.Key, s.Value));
        }

        return p;
    }
}
