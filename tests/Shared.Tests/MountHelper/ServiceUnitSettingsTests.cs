using Safemount.MountHelper;
using Safemount.Shared.DBus;
using Safemount.Shared.Tests.DBus;

namespace Safemount.Shared.Tests.MountHelper;

/// <summary>
/// The transient unit's hardening and packaging/systemd/safemount-ext4@.service are one list:
/// the file's [Unit] and [Service] settings must equal <see cref="ServiceUnitSettings.Settings"/>
/// (in order), every one must translate into D-Bus properties, and the scalar ones must marshal
/// byte for byte as libdbus's dbus-send marshals the same (sv) pair. systemd itself reads them
/// back equal in RealSystemdTests.
/// </summary>
[TestFixture]
public sealed class ServiceUnitSettingsTests
{
    private static string UnitFile => Path.Combine(DBusPeer.RepoRoot, "packaging", "systemd", "safemount-ext4@.service");

    [Test]
    public void TheUnitFileAndTheTransientListAreTheSame()
    {
        List<string> file = [];
        string section = string.Empty;
        foreach (string raw in File.ReadAllLines(UnitFile))
        {
            string line = raw.Trim();
            if (line.StartsWith('['))
            {
                section = line;
                continue;
            }

            if (line.Length == 0 || line.StartsWith('#') || section is not ("[Unit]" or "[Service]"))
            {
                continue;
            }

            int eq = line.IndexOf('=', StringComparison.Ordinal);
            string key = line[..eq];
            if (!ServiceUnitSettings.Replaced.Contains(key))
            {
                file.Add($"{key}={line[(eq + 1)..]}");
            }
        }

        Assert.That(ServiceUnitSettings.Settings.Select(s => $"{s.Key}={s.Value}"), Is.EqualTo(file),
            "packaging/systemd/safemount-ext4@.service and ServiceUnitSettings must list the same settings in the same order");
    }

    [Test]
    public void EverySettingTranslatesAndTheTransientUnitGetsTheConnection()
    {
        IReadOnlyList<DBusProperty> p = TransientServiceUnit.Properties("/usr/libexec/safemount/safemount-ext4", "/dev/sdb1", []);
        Assert.That(p.Select(x => x.Name), Does.Contain("StandardInputFileDescriptor").And.Contain("ExecStart").And.Contain("Environment"));
        Assert.That(p.Single(x => x.Name == "StandardInputFileDescriptor").Signature, Is.EqualTo("h"));
        Assert.That(p.Select(x => x.Name), Does.Not.Contain("StandardInput"), "stdin is the connection, not null");
        // The whole StartTransientUnit body marshals and parses back as its signature.
        byte[] body = SystemdManager.EncodeStartTransientUnit("safemount-ext4-1-0.service", "fail", p);
        DBusReader r = new(body, 0, body.Length);
        Assert.That(r.ReadString(), Is.EqualTo("safemount-ext4-1-0.service"));
        Assert.That(r.ReadString(), Is.EqualTo("fail"));
        r.SkipValue("a(sv)");
        r.SkipValue("a(sa(sv))");
        Assert.That(r.AtEnd, "the body is exactly ssa(sv)a(sa(sv))");
    }

    [TestCase("SecureBits", "noroot-locked", "i", "2")]
    [TestCase("UMask", "0077", "u", "63")]
    [TestCase("MemoryMax", "1G", "t", "1073741824")]
    [TestCase("RestrictNamespaces", "yes", "t", "0")]
    [TestCase("SystemCallErrorNumber", "EPERM", "i", "1")]
    [TestCase("CapabilityBoundingSet", "", "t", "0")]
    public void ValueTranslations(string key, string value, string signature, string expected)
    {
        DBusProperty p = UnitSettingConverter.Convert(key, value).Single();
        Assert.That(p.Signature, Is.EqualTo(signature));
        Assert.That(ReadBack(p).Value, Is.EqualTo(expected));
    }

    [Test]
    public void LimitsSetBothHardAndSoft()
    {
        Assert.That(UnitSettingConverter.Convert("LimitNOFILE", "64").Select(p => $"{p.Name}={ReadBack(p).Value}"), Is.EqualTo(new[] { "LimitNOFILE=64", "LimitNOFILESoft=64" }));
    }

    [TestCase("PrivateTmp", "maybe")]
    [TestCase("CapabilityBoundingSet", "CAP_SYS_ADMIN")]
    [TestCase("ReadWritePaths", "/var")]
    [TestCase("IPAddressDeny", "10.0.0.0/8")]
    public void SettingsWithoutATranslationAreRefused(string key, string value) =>
        Assert.Throws<NotSupportedException>(() => UnitSettingConverter.Convert(key, value));

    [Test]
    public void IpAddressDenyAnyIsBothFamiliesWithPrefixZero()
    {
        DBusWriter w = new();
        UnitSettingConverter.Convert("IPAddressDeny", "any").Single().WriteValue(w);
        byte[] expected =
        [
            44, 0, 0, 0, 0, 0, 0, 0, // array length (from the first element), pad to 8
            2, 0, 0, 0,              // AF_INET
            4, 0, 0, 0, 0, 0, 0, 0,  // ay: 4 bytes 0.0.0.0
            0, 0, 0, 0,              // prefix length 0
            10, 0, 0, 0,             // AF_INET6 (struct at offset 24, already 8-aligned)
            16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ay: 16 bytes ::
            0, 0, 0, 0,              // prefix length 0
        ];
        Assert.That(w.ToArray(), Is.EqualTo(expected));
    }

    /// <summary>Each scalar property of the transient unit, as a body "sv", equals what dbus-send marshals for string:NAME variant:TYPE:VALUE.</summary>
    [Test]
    public void ScalarPropertiesMarshalAsLibdbusDoes()
    {
        DBusMarshallingTests.RequireTool("dbus-send");
        using DBusPeer peer = new("return-o");
        List<(string Name, byte[] Ours)> sent = [];
        foreach (DBusProperty p in TransientServiceUnit.Properties("/usr/libexec/safemount/safemount-ext4", "/dev/sdb1", []))
        {
            (string type, string value) = ReadBack(p);
            if (type.Length == 0)
            {
                continue;
            }

            var r = DBusMarshallingTests.Run("dbus-send", $"--peer=unix:path={peer.SocketPath}", "--print-reply", "--type=method_call",
                "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.Property", $"string:{p.Name}", $"variant:{type}:{value}");
            Assert.That(r.ExitCode, Is.Zero, r.Text);
            DBusWriter w = new();
            p.Write(w);
            sent.Add((p.Name, w.ToArray()));
        }

        var recs = peer.Records();
        Assert.That(recs, Has.Count.EqualTo(sent.Count));
        Assert.That(sent, Has.Count.GreaterThanOrEqualTo(40), "scalar properties compared");
        for (int i = 0; i < sent.Count; i++)
        {
            DBusMessage m = DBusMessage.Decode(recs[i].Bytes);
            byte[] body = recs[i].Bytes[m.BodyOffset..];
            Assert.That(Convert.ToHexString(sent[i].Ours), Is.EqualTo(Convert.ToHexString(body)), sent[i].Name);
        }
    }

    /// <summary>The dbus-send type name and text of a scalar property's value, read back with <see cref="DBusReader"/>; ("", "") for containers.</summary>
    private static (string Type, string Value) ReadBack(DBusProperty p)
    {
        DBusWriter w = new();
        p.WriteValue(w);
        byte[] b = w.ToArray();
        DBusReader r = new(b, 0, b.Length);
        (string, string) v = p.Signature switch
        {
            "s" => ("string", r.ReadString()),
            "b" => ("boolean", r.ReadBoolean() ? "true" : "false"),
            "t" => ("uint64", r.ReadUInt64().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            "u" => ("uint32", r.ReadUInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            "i" => ("int32", r.ReadInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            _ => (string.Empty, string.Empty),
        };
        if (v.Item1.Length > 0)
        {
            Assert.That(r.AtEnd, $"{p.Name}: the value is exactly one {p.Signature}");
        }

        return v;
    }
}
