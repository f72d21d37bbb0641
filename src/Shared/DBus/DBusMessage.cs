using System.Buffers.Binary;

namespace Safemount.Shared.DBus;

/// <summary>
/// One D-Bus message (D-Bus specification, "Message Format"): a 12-byte fixed header
/// {endianness 'l', type, flags, version 1, body length, serial}, the header fields a(yv), padding
/// to 8, the body. Only little-endian messages are produced or accepted.
/// </summary>
public sealed class DBusMessage
{
    /// <summary>'l': little-endian.</summary>
    public const byte LittleEndian = (byte)'l';

    /// <summary>The major protocol version of every message.</summary>
    public const byte ProtocolVersion = 1;

    /// <summary>Header flag NO_REPLY_EXPECTED.</summary>
    public const byte FlagNoReplyExpected = 0x1;

    private readonly byte[] _data;

    private DBusMessage(byte[] data, int bodyOffset)
    {
        _data = data;
        BodyOffset = bodyOffset;
    }

    public DBusMessageType Type { get; private init; }

    public byte Flags { get; private init; }

    public uint Serial { get; private init; }

    public uint BodyLength { get; private init; }

    public int BodyOffset { get; }

    public string? Path { get; private set; }

    public string? Interface { get; private set; }

    public string? Member { get; private set; }

    public string? ErrorName { get; private set; }

    public uint? ReplySerial { get; private set; }

    public string? Destination { get; private set; }

    public string? Sender { get; private set; }

    /// <summary>The body's signature; empty when the field is absent.</summary>
    public string Signature { get; private set; } = string.Empty;

    /// <summary>How many unix fds the sender says accompany the message.</summary>
    public uint UnixFds { get; private set; }

    /// <summary>A cursor over the body (alignment counted from the message start; the body starts on 8).</summary>
    public DBusReader BodyReader() => new(_data, BodyOffset, BodyOffset + (int)BodyLength);

    /// <summary>
    /// A METHOD_CALL with <paramref name="body"/> (marshalled from offset 0 by a <see cref="DBusWriter"/>)
    /// of <paramref name="signature"/>. <paramref name="destination"/> is null on a peer-to-peer
    /// connection (no bus routes it).
    /// </summary>
    public static byte[] EncodeMethodCall(uint serial, string? destination, string path, string @interface, string member, string signature, ReadOnlySpan<byte> body, uint unixFds)
    {
        DBusWriter w = new();
        w.WriteByte(LittleEndian);
        w.WriteByte((byte)DBusMessageType.MethodCall);
        w.WriteByte(0);
        w.WriteByte(ProtocolVersion);
        w.WriteUInt32((uint)body.Length);
        w.WriteUInt32(serial);
        DBusWriter.ArrayToken fields = w.BeginArray(8);
        WriteField(w, DBusHeaderField.Path, "o", x => x.WriteObjectPath(path));
        if (destination is not null)
        {
            WriteField(w, DBusHeaderField.Destination, "s", x => x.WriteString(destination));
        }

        WriteField(w, DBusHeaderField.Interface, "s", x => x.WriteString(@interface));
        WriteField(w, DBusHeaderField.Member, "s", x => x.WriteString(member));
        if (signature.Length > 0)
        {
            WriteField(w, DBusHeaderField.Signature, "g", x => x.WriteSignature(signature));
        }

        if (unixFds > 0)
        {
            WriteField(w, DBusHeaderField.UnixFds, "u", x => x.WriteUInt32(unixFds));
        }

        w.EndArray(fields);
        w.Align(8);
        byte[] message = new byte[w.Length + body.Length];
        w.Bytes.CopyTo(message);
        body.CopyTo(message.AsSpan(w.Length));
        return message;
    }

    /// <summary>
    /// The whole message's length from its first 16 bytes (fixed header and the header-field
    /// array length), checked against <see cref="DBusLimits"/>.
    /// </summary>
    public static int TotalLength(ReadOnlySpan<byte> first16)
    {
        if (first16.Length < 16)
        {
            throw new DBusException("a D-Bus message header is 16 bytes at least");
        }

        if (first16[0] != LittleEndian)
        {
            throw new DBusException($"endianness byte 0x{first16[0]:x2}: only little-endian ('l') messages are accepted");
        }

        if (first16[3] != ProtocolVersion)
        {
            throw new DBusException($"protocol version {first16[3]}, expected {ProtocolVersion}");
        }

        uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(first16[4..]);
        uint fieldsLength = BinaryPrimitives.ReadUInt32LittleEndian(first16[12..]);
        if (fieldsLength > DBusLimits.MaxHeaderFieldsBytes)
        {
            throw new DBusException($"header fields of {fieldsLength} bytes, more than {DBusLimits.MaxHeaderFieldsBytes}");
        }

        long headerEnd = (16 + fieldsLength + 7) & ~7L;
        long total = headerEnd + bodyLength;
        if (total > DBusLimits.MaxMessageBytes)
        {
            throw new DBusException($"message of {total} bytes, more than {DBusLimits.MaxMessageBytes}");
        }

        return (int)total;
    }

    /// <summary>Parses a complete message (exactly <see cref="TotalLength"/> bytes).</summary>
    public static DBusMessage Decode(byte[] data)
    {
        int total = TotalLength(data);
        if (data.Length != total)
        {
            throw new DBusException($"message is {data.Length} bytes, its header says {total}");
        }

        DBusReader r = new(data, 0, data.Length);
        r.ReadByte();
        byte type = r.ReadByte();
        byte flags = r.ReadByte();
        r.ReadByte();
        uint bodyLength = r.ReadUInt32();
        uint serial = r.ReadUInt32();
        if (serial == 0)
        {
            throw new DBusException("message serial 0");
        }

        if (type is < (byte)DBusMessageType.MethodCall or > (byte)DBusMessageType.Signal)
        {
            throw new DBusException($"unknown message type {type}");
        }

        int fieldsEnd = r.BeginArray(8);
        int bodyOffset = (fieldsEnd + 7) & ~7;
        DBusMessage m = new(data, bodyOffset) { Type = (DBusMessageType)type, Flags = flags, Serial = serial, BodyLength = bodyLength };
        DBusReader fields = new(data, r.Position, fieldsEnd);
        while (!fields.AtEnd)
        {
            fields.Align(8);
            byte code = fields.ReadByte();
            string sig = fields.ReadSignature();
            switch ((DBusHeaderField)code)
            {
                case DBusHeaderField.Path:
                    m.Path = ExpectSignature(sig, "o", code, fields).ReadObjectPath();
                    break;
                case DBusHeaderField.Interface:
                    m.Interface = ExpectSignature(sig, "s", code, fields).ReadString();
                    break;
                case DBusHeaderField.Member:
                    m.Member = ExpectSignature(sig, "s", code, fields).ReadString();
                    break;
                case DBusHeaderField.ErrorName:
                    m.ErrorName = ExpectSignature(sig, "s", code, fields).ReadString();
                    break;
                case DBusHeaderField.ReplySerial:
                    m.ReplySerial = ExpectSignature(sig, "u", code, fields).ReadUInt32();
                    break;
                case DBusHeaderField.Destination:
                    m.Destination = ExpectSignature(sig, "s", code, fields).ReadString();
                    break;
                case DBusHeaderField.Sender:
                    m.Sender = ExpectSignature(sig, "s", code, fields).ReadString();
                    break;
                case DBusHeaderField.Signature:
                    m.Signature = ExpectSignature(sig, "g", code, fields).ReadSignature();
                    break;
                case DBusHeaderField.UnixFds:
                    m.UnixFds = ExpectSignature(sig, "u", code, fields).ReadUInt32();
                    break;
                default:
                    // Unknown fields must be ignored (D-Bus specification, "Header Fields").
                    if (fields.SkipValue(sig) != sig.Length)
                    {
                        throw new DBusException($"header field {code}: '{sig}' is not one single complete type");
                    }

                    break;
            }
        }

        DBusReader padding = new(data, fieldsEnd, bodyOffset);
        padding.Align(8);
        if ((m.Type == DBusMessageType.MethodReturn || m.Type == DBusMessageType.Error) && m.ReplySerial is null)
        {
            throw new DBusException($"{m.Type} without REPLY_SERIAL");
        }

        if (m.Type == DBusMessageType.Error && m.ErrorName is null)
        {
            throw new DBusException("ERROR without ERROR_NAME");
        }

        if (bodyLength > 0 && m.Signature.Length == 0)
        {
            throw new DBusException("a body without a SIGNATURE field");
        }

        return m;
    }

    private static void WriteField(DBusWriter w, DBusHeaderField code, string signature, Action<DBusWriter> value)
    {
        w.BeginStruct();
        w.WriteByte((byte)code);
        w.WriteVariant(signature, value);
    }

    private static DBusReader ExpectSignature(string actual, string expected, byte code, DBusReader r) =>
        actual == expected ? r : throw new DBusException($"header field {code} has signature '{actual}', expected '{expected}'");
}
