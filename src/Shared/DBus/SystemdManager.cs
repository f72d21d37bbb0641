using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.DBus;

/// <summary>
/// org.freedesktop.systemd1.Manager over <see cref="DBusConnection"/> (org.freedesktop.systemd1(5)).
/// Only what the mount helper needs: StartTransientUnit.
/// </summary>
public static class SystemdManager
{
    /// <summary>The directory that exists exactly when systemd is the running init (sd_booted(3)).</summary>
    public const string BootedDirectory = "/run/systemd/system";

    /// <summary>systemd's private peer-to-peer socket, root only (what systemctl uses as root).</summary>
    public const string PrivateSocket = "/run/systemd/private";

    /// <summary>The system bus (dbus-daemon or dbus-broker).</summary>
    public const string SystemBusSocket = "/run/dbus/system_bus_socket";

    public const string Service = "org.freedesktop.systemd1";
    public const string ObjectPath = "/org/freedesktop/systemd1";
    public const string Interface = "org.freedesktop.systemd1.Manager";

    /// <summary>StartTransientUnit(in s name, in s mode, in a(sv) properties, in a(sa(sv)) aux, out o job).</summary>
    public const string StartTransientUnitSignature = "ssa(sv)a(sa(sv))";

    /// <summary>
    /// Connects to systemd: the private socket when it exists, else the system bus. Returns the
    /// connection and the address used.
    /// </summary>
    public static (DBusConnection Connection, string Address) Connect(Deadline deadline)
    {
        if (File.Exists(PrivateSocket))
        {
            try
            {
                return (DBusConnection.Connect(PrivateSocket, isBus: false, deadline), PrivateSocket);
            }
            catch (ErrnoException)
            {
                // systemd is shutting its private socket down or is re-executing: try the bus.
            }
        }

        try
        {
            return (DBusConnection.Connect(SystemBusSocket, isBus: true, deadline), SystemBusSocket);
        }
        catch (ErrnoException e)
        {
            throw new DBusException($"cannot reach systemd: neither {PrivateSocket} nor {SystemBusSocket} answers ({e.Message})", inner: e);
        }
    }

    /// <summary>The body of a StartTransientUnit call with no auxiliary units.</summary>
    public static byte[] EncodeStartTransientUnit(string unitName, string mode, IReadOnlyList<DBusProperty> properties)
    {
        DBusWriter w = new();
        w.WriteString(unitName);
        w.WriteString(mode);
        DBusWriter.ArrayToken props = w.BeginArray(8);
        foreach (DBusProperty p in properties)
        {
            p.Write(w);
        }

        w.EndArray(props);
        DBusWriter.ArrayToken aux = w.BeginArray(8);
        w.EndArray(aux);
        return w.ToArray();
    }

    /// <summary>
    /// Starts a transient unit (job mode "fail") with <paramref name="fds"/> passed along for 'h'
    /// properties; returns the job's object path. An error reply throws <see cref="DBusException"/>.
    /// </summary>
    public static string StartTransientUnit(DBusConnection connection, string unitName, IReadOnlyList<DBusProperty> properties, ReadOnlySpan<SafeFd> fds, Deadline deadline)
    {
        byte[] body = EncodeStartTransientUnit(unitName, "fail", properties);
        DBusMessage reply = connection.Call(Service, ObjectPath, Interface, "StartTransientUnit", StartTransientUnitSignature, body, fds, deadline);
        if (reply.Signature != "o")
        {
            throw new DBusException($"StartTransientUnit replied with signature '{reply.Signature}', expected 'o'");
        }

        DBusReader r = reply.BodyReader();
        string job = r.ReadObjectPath();
        if (!r.AtEnd)
        {
            throw new DBusException("StartTransientUnit reply has trailing bytes");
        }

        return job;
    }
}
