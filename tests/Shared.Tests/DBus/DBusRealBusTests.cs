using System.Diagnostics;
using Safemount.Shared.DBus;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.DBus;

/// <summary>
/// The client against a real message bus: a private dbus-daemon (the reference implementation)
/// on a temporary socket. Covers the system-bus path of the launcher: Hello, calls routed by
/// destination, error replies from the bus, and a message carrying an fd that the daemon parses.
/// </summary>
[TestFixture]
public sealed class DBusRealBusTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    [Test]
    public void HelloGetIdErrorsAndFdPassingThroughDbusDaemon()
    {
        DBusMarshallingTests.RequireTool("dbus-daemon");
        string dir = Directory.CreateTempSubdirectory("safemount-bus-").FullName;
        string socket = Path.Combine(dir, "bus.sock");
        // An open policy. (With <allow send_destination="*"/> alone, dbus-daemon 1.14 left Hello
        // unanswered for libdbus-independent clients too; the eavesdrop rules avoid that.)
        File.WriteAllText(Path.Combine(dir, "bus.conf"), $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>custom</type>
              <listen>unix:path={socket}</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow send_destination="*" eavesdrop="true"/>
                <allow eavesdrop="true"/>
                <allow own="*"/>
              </policy>
            </busconfig>
            """);
        ProcessStartInfo psi = new("dbus-daemon") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add($"--config-file={Path.Combine(dir, "bus.conf")}");
        psi.ArgumentList.Add("--nofork");
        psi.ArgumentList.Add("--print-address");
        using Process daemon = Process.Start(psi)!;
        try
        {
            // --print-address is written once the daemon listens.
            string? address = daemon.StandardOutput.ReadLine();
            Assert.That(address, Does.StartWith($"unix:path={socket}"));

            using DBusConnection c = DBusConnection.Connect(socket, isBus: true, Deadline.After(Step));
            Assert.That(c.UniqueName, Does.Match("^:[0-9]+\\.[0-9]+$"), "the unique name from Hello");

            DBusMessage id = c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", string.Empty, ReadOnlySpan<byte>.Empty, ReadOnlySpan<SafeFd>.Empty, Deadline.After(Step));
            Assert.That(id.Signature, Is.EqualTo("s"));
            Assert.That(id.BodyReader().ReadString(), Does.Match("^[0-9a-f]{32}$"), "the bus id, as the daemon printed it in its address");

            DBusException unknown = Assert.Throws<DBusException>(() => c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NoSuchMethod", string.Empty, ReadOnlySpan<byte>.Empty, ReadOnlySpan<SafeFd>.Empty, Deadline.After(Step)))!;
            Assert.That(unknown.ErrorName, Is.EqualTo("org.freedesktop.DBus.Error.UnknownMethod"));

            // A StartTransientUnit with an fd, to a name nobody owns: the daemon parses the
            // message (fd count included) and answers ServiceUnknown, not a disconnect.
            (SafeFd a, SafeFd b) = TestFds.SeqPacketPair();
            using (a)
            using (b)
            {
                DBusException none = Assert.Throws<DBusException>(() => SystemdManager.StartTransientUnit(c, "x.service", [DBusProperty.UnixFd("StandardInputFileDescriptor", 0)], [b], Deadline.After(Step)))!;
                Assert.That(none.ErrorName, Is.EqualTo("org.freedesktop.DBus.Error.ServiceUnknown"));
            }

            Assert.That(c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", string.Empty, ReadOnlySpan<byte>.Empty, ReadOnlySpan<SafeFd>.Empty, Deadline.After(Step)).Signature,
                Is.EqualTo("s"), "the connection is still usable after the errors");
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill();
            }

            daemon.WaitForExit();
            Directory.Delete(dir, recursive: true);
        }
    }
}
