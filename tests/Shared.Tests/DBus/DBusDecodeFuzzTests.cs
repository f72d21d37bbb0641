using Safemount.Shared.DBus;

namespace Safemount.Shared.Tests.DBus;

/// <summary>
/// Mutation fuzzing of the D-Bus reply parser (<see cref="DBusMessage.TotalLength"/>,
/// <see cref="DBusMessage.Decode"/> and the body reads the client does), with fixed seeds: every
/// mutated reply, error or signal must parse or fail with <see cref="DBusException"/>.
/// </summary>
[TestFixture]
public sealed class DBusDecodeFuzzTests
{
    private const int Iterations = 5000;

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void RepliesParseOrFailWithDBusException(int seed)
    {
        byte[][] valid =
        [
            Message(DBusMessageType.MethodReturn, [(DBusHeaderField.ReplySerial, "u", w => w.WriteUInt32(2))], "o", w => w.WriteObjectPath("/org/freedesktop/systemd1/job/7")),
            Message(DBusMessageType.Error, [(DBusHeaderField.ReplySerial, "u", w => w.WriteUInt32(2)), (DBusHeaderField.ErrorName, "s", w => w.WriteString("org.freedesktop.systemd1.UnitExists"))], "s", w => w.WriteString("Unit x.service was already loaded")),
            Message(DBusMessageType.Signal, [(DBusHeaderField.Path, "o", w => w.WriteObjectPath("/org/freedesktop/DBus")), (DBusHeaderField.Member, "s", w => w.WriteString("NameAcquired")), (DBusHeaderField.Sender, "s", w => w.WriteString("org.freedesktop.DBus"))], "s", w => w.WriteString(":1.42")),
            Message(DBusMessageType.MethodReturn, [(DBusHeaderField.ReplySerial, "u", w => w.WriteUInt32(1)), ((DBusHeaderField)42, "a(yv)", w => { DBusWriter.ArrayToken a = w.BeginArray(8); w.BeginStruct(); w.WriteByte(1); w.WriteVariant("as", x => x.WriteStringArray(["a", "b"])); w.EndArray(a); })], "s", w => w.WriteString(":1.42")),
        ];
        Random random = new(seed);
        int parsed = 0;
        for (int i = 0; i < Iterations; i++)
        {
            byte[] m = Mutate(valid[random.Next(valid.Length)], random);
            try
            {
                if (m.Length < 16 || DBusMessage.TotalLength(m.AsSpan(0, 16)) != m.Length)
                {
                    continue;
                }

                DBusMessage d = DBusMessage.Decode(m);
                DBusReader r = d.BodyReader();
                if (d.Signature.Length > 0)
                {
                    r.SkipValue(d.Signature);
                }

                parsed++;
            }
            catch (DBusException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed} iteration {i}: {Convert.ToHexString(m)} threw {e}");
            }
        }

        TestContext.Out.WriteLine($"seed {seed}: {parsed} of {Iterations} mutations parsed");
    }

    private static byte[] Message(DBusMessageType type, (DBusHeaderField Code, string Sig, Action<DBusWriter> Value)[] fields, string signature, Action<DBusWriter> body)
    {
        DBusWriter b = new();
        body(b);
        DBusWriter w = new();
        w.WriteByte(DBusMessage.LittleEndian);
        w.WriteByte((byte)type);
        w.WriteByte(0);
        w.WriteByte(DBusMessage.ProtocolVersion);
        w.WriteUInt32((uint)b.Length);
        w.WriteUInt32(7);
        DBusWriter.ArrayToken a = w.BeginArray(8);
        foreach (var f in fields.Append((DBusHeaderField.Signature, "g", x => x.WriteSignature(signature))))
        {
            w.BeginStruct();
            w.WriteByte((byte)f.Item1);
            w.WriteVariant(f.Item2, f.Item3);
        }

        w.EndArray(a);
        w.Align(8);
        return [.. w.Bytes, .. b.Bytes];
    }

    /// <summary>One to four byte-level mutations; the length words are kept consistent half the time so Decode is reached.</summary>
    private static byte[] Mutate(byte[] message, Random random)
    {
        byte[] b = (byte[])message.Clone();
        for (int k = 1 + random.Next(4); k > 0; k--)
        {
            int at = random.Next(b.Length);
            switch (random.Next(5))
            {
                case 0:
                    b[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    b[at] = (byte)random.Next(256);
                    break;
                case 2:
                    b[at] = random.Next(2) == 0 ? (byte)0xFF : (byte)0;
                    break;
                case 3:
                    b = b[..at];
                    break;
                default:
                    b = [.. b, .. Enumerable.Range(0, random.Next(1, 24)).Select(_ => (byte)random.Next(256))];
                    break;
            }

            if (b.Length < 16)
            {
                return b;
            }
        }

        if (random.Next(2) == 0)
        {
            // Make the body length agree with the bytes, so the parser is reached.
            uint fields = BitConverter.ToUInt32(b, 12);
            long headerEnd = (16 + (long)fields + 7) & ~7L;
            if (headerEnd <= b.Length)
            {
                BitConverter.TryWriteBytes(b.AsSpan(4, 4), (uint)(b.Length - headerEnd));
            }
        }

        return b;
    }
}
