using System.Buffers.Binary;
using System.Text;

namespace Safemount.Shared.Protocol;

/// <summary>
/// Builds one message: header {u32 type, u32 body_length} then the body, little-endian.
/// Strings are u16 byte length + UTF-8 bytes (no NUL). Exceeding a limit here is a
/// programmer error on the sending side (<see cref="ArgumentException"/>), never sent.
/// </summary>
public sealed class MessageWriter
{
    private readonly byte[] _buffer = new byte[ProtocolLimits.MaxMessageSize];
    private int _length;

    public MessageWriter(MessageType type)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)type);
        _length = ProtocolLimits.HeaderSize;
    }

    /// <summary>The finished datagram (the header's body_length is filled in here).</summary>
    public ReadOnlySpan<byte> Message
    {
        get
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(4), (uint)(_length - ProtocolLimits.HeaderSize));
            return _buffer.AsSpan(0, _length);
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (count > _buffer.Length - _length)
        {
            throw new ArgumentException("message exceeds ProtocolLimits.MaxMessageSize");
        }

        Span<byte> s = _buffer.AsSpan(_length, count);
        _length += count;
        return s;
    }

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    /// <summary>u16 length + UTF-8; <paramref name="maxBytes"/> is the field's named limit.</summary>
    public void WriteString(string value, int maxBytes)
    {
        int n = Encoding.UTF8.GetByteCount(value);
        if (n > maxBytes || n > ushort.MaxValue || value.Contains('\0'))
        {
            throw new ArgumentException($"string field longer than {maxBytes} bytes or contains NUL");
        }

        BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), (ushort)n);
        Encoding.UTF8.GetBytes(value, Reserve(n));
    }
}
