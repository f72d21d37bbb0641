using System.Diagnostics;
using Safemount.Shared.DBus;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.DBus;

/// <summary>
/// The client against a real peer process (dbus-peer.py): SASL, fd passing, Hello on a bus,
/// error replies, unrelated signals, garbage, silence (the deadline), refused authentication.
/// </summary>
[TestFixture]
public sealed class DBusConnectionTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    [Test]
    public void PeerToPeerCallPassesTheFdAndReturnsTheJob()
    {
        using DBusPeer peer = new("return-o");
        using DBusConnection c = DBusConnection.Connect(peer.SocketPath, isBus: false, Deadline.After(Step));
        (SafeFd a, SafeFd b) = TestFds.SeqPacketPair();
        using (a)
        using (b)
        {
            string job = SystemdManager.StartTransientUnit(c, "x.service", [DBusProperty.UnixFd("StandardInputFileDescriptor", 0)], [b], Deadline.After(Step));
            Assert.That(job, Is.EqualTo("/org/freedesktop/systemd1/job/7"));
        }

        var recs = peer.Records();
        Assert.That(recs.Select(r => r.Member), Is.EqualTo(new[] { "Ping", "StartTransientUnit" }), "a call without fds first, so the peer has left its authentication state");
        Assert.That(recs[0].Fds, Is.Zero);
        var rec = recs[1];
        Assert.Multiple(() =>
        {
            Assert.That(rec.Member, Is.EqualTo("StartTransientUnit"));
            Assert.That(rec.Fds, Is.EqualTo(1));
            Assert.That(rec.Kinds, Is.EqualTo("socket"));
            DBusMessage m = DBusMessage.Decode(rec.Bytes);
            Assert.That(m.UnixFds, Is.EqualTo(1));
            Assert.That(m.Destination, Is.Null, "no destination on a peer-to-peer connection");
            Assert.That(m.Signature, Is.EqualTo(SystemdManager.StartTransientUnitSignature));
            Assert.That(c.UniqueName, Is.Null);
        });
    }

    [Test]
    public void BusConnectionSaysHelloFirstAndAddressesSystemd()
    {
        using DBusPeer peer = new("return-o");
        using DBusConnection c = DBusConnection.Connect(peer.SocketPath, isBus: true, Deadline.After(Step));
        SystemdManager.StartTransientUnit(c, "x.service", [], [], Deadline.After(Step));
        var recs = peer.Records();
        Assert.That(recs.Select(r => r.Member), Is.EqualTo(new[] { "Hello", "StartTransientUnit" }));
        Assert.That(c.UniqueName, Is.EqualTo(":1.42"));
        Assert.That(DBusMessage.Decode(recs[1].Bytes).Destination, Is.EqualTo(SystemdManager.Service));
    }

    [Test]
    public void UnrelatedSignalBeforeTheReplyIsSkipped()
    {
        using DBusPeer peer = new("signal-first");
        using DBusConnection c = DBusConnection.Connect(peer.SocketPath, isBus: false, Deadline.After(Step));
        Assert.That(SystemdManager.StartTransientUnit(c, "x.service", [], [], Deadline.After(Step)), Is.EqualTo("/org/freedesktop/systemd1/job/7"));
    }

    [Test]
    public void ErrorReplyCarriesItsNameAndText()
    {
        using DBusPeer peer = new("error");
        using DBusConnection c = DBusConnection.Connect(peer.SocketPath, isBus: false, Deadline.After(Step));
        DBusException e = Assert.Throws<DBusException>(() => SystemdManager.StartTransientUnit(c, "x.service", [], [], Deadline.After(Step)))!;
        Assert.That(e.ErrorName, Is.EqualTo("org.freedesktop.systemd1.UnitExists"));
        Assert.That(e.Message, Does.Contain("already loaded"));
    }

    [Test]
    public void GarbageReplyIsATypedError()
    {
        using DBusPeer peer = new("garbage");
        using DBusConnection c = DBusConnection.Connect(peer.SocketPath, isBus: false, Deadline.After(Step));
        DBusException e = Assert.Throws<DBusException>(() => SystemdManager.StartTransientUnit(c, "x.service", [], [], Deadline.After(Step)))!;
        Assert.That(e.ErrorName, Is.Null);
        Assert.That(e.Message, Does.Contain("little-endian"));
    }

    [Test]
    public void SilentPeerHitsTheDeadline()
    {
        using DBusPeer peer = new("silent");
        using DBusConnection c = DBusConnection.Connect(peer.SocketPath, isBus: false, Deadline.After(Step));
        DBusException e = Assert.Throws<DBusException>(() => SystemdManager.StartTransientUnit(c, "x.service", [], [], Deadline.After(TimeSpan.FromMilliseconds(300))))!;
        Assert.That(e.Message, Does.Contain("timed out"));
    }

    [Test]
    public void RefusedAuthenticationIsATypedError()
    {
        using DBusPeer peer = new("reject");
        DBusException e = Assert.Throws<DBusException>(() => DBusConnection.Connect(peer.SocketPath, isBus: false, Deadline.After(Step)))!;
        Assert.That(e.Message, Does.Contain("authentication refused"));
    }

    [Test]
    public void NoSocketIsAnErrnoForTheCallerToFallBackOn()
    {
        string path = Path.Combine(Path.GetTempPath(), $"safemount-no-bus-{Guid.NewGuid():N}");
        ErrnoException e = Assert.Throws<ErrnoException>(() => DBusConnection.Connect(path, isBus: false, Deadline.After(Step)))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.ENOENT));
    }
}
