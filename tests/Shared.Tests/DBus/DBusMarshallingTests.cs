using System.Diagnostics;
using Safemount.Shared.DBus;

namespace Safemount.Shared.Tests.DBus;

/// <summary>
/// Byte-exact marshalling: fixtures computed by hand from the D-Bus specification ("Marshaling
/// (Wire Format)", one comment per field), and whole messages compared with what libdbus's
/// dbus-send puts on the wire (captured by dbus-peer.py).
/// </summary>
[TestFixture]
public sealed class DBusMarshallingTests
{
    [Test]
    public void StringIsLengthBytesAndNul()
    {
        DBusWriter w = new();
        w.WriteString("abc");
        Assert.That(w.ToArray(), Is.EqualTo(new byte[]
        {
            3, 0, 0, 0,          // UINT32 length, without the NUL
            0x61, 0x62, 0x63, 0, // "abc" NUL
        }));
    }

    [Test]
    public void Uint32AfterAByteIsPaddedToFour()
    {
        DBusWriter w = new();
        w.WriteByte(1);
        w.WriteUInt32(7);
        Assert.That(w.ToArray(), Is.EqualTo(new byte[] { 1, 0, 0, 0, 7, 0, 0, 0 }));
    }

    [Test]
    public void StringArrayLengthCountsInnerPaddingButNotTrailing()
    {
        DBusWriter w = new();
        w.WriteStringArray(["a", "bc"]);
        Assert.That(w.ToArray(), Is.EqualTo(new byte[]
        {
            15, 0, 0, 0,               // array length: 6 + 2 (pad) + 7
            1, 0, 0, 0, 0x61, 0,       // "a"
            0, 0,                      // pad to 4 for the next string
            2, 0, 0, 0, 0x62, 0x63, 0, // "bc"
        }));
    }

    [Test]
    public void EmptyArrayOfStructsStillPadsToEight()
    {
        DBusWriter w = new();
        DBusWriter.ArrayToken a = w.BeginArray(8);
        w.EndArray(a);
        Assert.That(w.ToArray(), Is.EqualTo(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }), "length 0, then padding to the element alignment");
    }

    [Test]
    public void VariantIsSignatureThenAlignedValue()
    {
        DBusWriter w = new();
        w.WriteVariant("s", x => x.WriteString("x"));
        Assert.That(w.ToArray(), Is.EqualTo(new byte[]
        {
            1, 0x73, 0,        // signature "s": length byte, 's', NUL
            0,                 // pad to 4
            1, 0, 0, 0, 0x78, 0, // "x"
        }));
    }

    [Test]
    public void FilterListNoneIsAnEmptyAllowList()
    {
        DBusWriter w = new();
        new DBusProperty("RestrictAddressFamilies", "(bas)", x =>
        {
            x.BeginStruct();
            x.WriteBoolean(true);
            x.WriteStringArray([]);
        }).WriteValue(w);
        Assert.That(w.ToArray(), Is.EqualTo(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0 }), "b true, as of length 0");
    }

    [Test]
    public void WholeMethodCallMatchesLibdbus()
    {
        RequireTool("dbus-send");
        using DBusPeer peer = new("return-o");
        CommandOutput r = Run("dbus-send", $"--peer=unix:path={peer.SocketPath}", "--print-reply", "--type=method_call",
            "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.Test",
            "string:abc", "uint32:7", "array:string:a,bc", "boolean:true", "uint64:64", "int32:-3", "objpath:/a/b", "variant:string:x");
        Assert.That(r.ExitCode, Is.Zero, r.Text);
        byte[] libdbus = peer.Records().Single().Bytes;

        DBusWriter body = new();
        body.WriteString("abc");
        body.WriteUInt32(7);
        body.WriteStringArray(["a", "bc"]);
        body.WriteBoolean(true);
        body.WriteUInt64(64);
        body.WriteInt32(-3);
        body.WriteObjectPath("/a/b");
        body.WriteVariant("s", x => x.WriteString("x"));
        byte[] ours = DBusMessage.EncodeMethodCall(1, null, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "Test", "suasbtiov", body.Bytes, 0);
        Assert.That(Convert.ToHexString(ours), Is.EqualTo(Convert.ToHexString(libdbus)));

        DBusMessage decoded = DBusMessage.Decode(libdbus);
        Assert.Multiple(() =>
        {
            Assert.That(decoded.Type, Is.EqualTo(DBusMessageType.MethodCall));
            Assert.That(decoded.Path, Is.EqualTo("/org/freedesktop/systemd1"));
            Assert.That(decoded.Interface, Is.EqualTo("org.freedesktop.systemd1.Manager"));
            Assert.That(decoded.Member, Is.EqualTo("Test"));
            Assert.That(decoded.Signature, Is.EqualTo("suasbtiov"));
        });
        DBusReader br = decoded.BodyReader();
        Assert.That(br.ReadString(), Is.EqualTo("abc"));
        Assert.That(br.ReadUInt32(), Is.EqualTo(7));
        Assert.That(br.SkipValue("as"), Is.EqualTo(2));
        Assert.That(br.ReadBoolean(), Is.True);
        Assert.That(br.ReadUInt64(), Is.EqualTo(64));
        Assert.That(br.ReadInt32(), Is.EqualTo(-3));
        Assert.That(br.ReadObjectPath(), Is.EqualTo("/a/b"));
        Assert.That(br.SkipValue("v"), Is.EqualTo(1));
        Assert.That(br.AtEnd);
    }

    internal static void RequireTool(string tool)
    {
        if (Run("/bin/sh", "-c", $"command -v {tool}").ExitCode != 0)
        {
            Assert.Ignore($"{tool} is not installed (apt package dbus)");
        }
    }

    internal static CommandOutput Run(string file, params string[] args)
    {
        ProcessStartInfo psi = new(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> o = p.StandardOutput.ReadToEndAsync();
        Task<string> e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            p.Kill();
            p.WaitForExit();
        }

        return new CommandOutput(p.ExitCode, o.Result + e.Result);
    }

    internal sealed record CommandOutput(int ExitCode, string Text);
}
