using System.Buffers.Binary;
using System.Text;

namespace Safemount.Shared.Protocol;

/// <summary>
/// A cursor over one message body. Every read checks the remaining length first and fails
/// with <see cref="ProtocolException"/> (MalformedMessage); it never throws
/// IndexOutOfRangeException.
/// </summary>
public ref struct MessageReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _body;
    private readonly MessageType _type;
    private int _offset;

    public MessageReader(MessageType type, ReadOnlySpan<byte> body)
    {
        _type = type;
        _body = body;
        _offset = 0;
    }

    public readonly int Remaining => _body.Length - _offset;

    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (count < 0 || count > Remaining)
        {
            throw Malformed($"{field} runs past the end of the message");
        }

        ReadOnlySpan<byte> s = _body.Slice(_offset, count);
        _offset += count;
        return s;
    }

    public uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    public ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    public byte[] ReadBytes(int count, string field) => Take(count, field).ToArray();

    /// <summary>u16 length (checked against <paramref name="maxBytes"/> first) + strict UTF-8 without NUL.</summary>
    public string ReadString(int maxBytes, string field)
    {
        int n = BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));
        if (n > maxBytes)
        {
            throw Malformed($"{field} is {n} bytes, limit {maxBytes}");
        }

        ReadOnlySpan<byte> bytes = Take(n, field);
        if (bytes.IndexOf((byte)0) >= 0)
        {
            throw Malformed($"{field} contains NUL");
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed($"{field} is not valid UTF-8");
        }
    }

    /// <summary>Fails unless the whole body was consumed.</summary>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
        {
            throw Malformed($"{Remaining} trailing bytes");
        }
    }

    private readonly ProtocolException Malformed(string what) =>
        new(ProtocolErrorCode.MalformedMessage, $"malformed {_type} message: {what}");
}
