using System.Buffers.Binary;
using System.Text;

namespace Safemount.Shared.DBus;

/// <summary>
/// Little-endian D-Bus marshalling (D-Bus specification, "Marshaling (Wire Format)"). Every value
/// is aligned to its natural boundary counted from the start of the buffer, which is the start
/// of the message or of the body (the body begins on an 8-byte boundary, so both count the same).
/// The writer does not track a signature: the caller states it (<see cref="DBusMessage"/>), and
/// byte-exact tests pin the result.
/// </summary>
public sealed class DBusWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => Bytes.ToArray();

    /// <summary>Pads with zero bytes up to a multiple of <paramref name="alignment"/> (1, 2, 4 or 8).</summary>
    public void Align(int alignment)
    {
        int pad = (alignment - (_length % alignment)) % alignment;
        Span<byte> s = Grow(pad);
        s.Clear();
    }

    /// <summary>y.</summary>
    public void WriteByte(byte value) => Grow(1)[0] = value;

    /// <summary>b: a UINT32 that is 0 or 1.</summary>
    public void WriteBoolean(bool value) => WriteUInt32(value ? 1u : 0u);

    /// <summary>i.</summary>
    public void WriteInt32(int value)
    {
        Align(4);
        BinaryPrimitives.WriteInt32LittleEndian(Grow(4), value);
    }

    /// <summary>u.</summary>
    public void WriteUInt32(uint value)
    {
        Align(4);
        BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), value);
    }

    /// <summary>x.</summary>
    public void WriteInt64(long value)
    {
        Align(8);
        BinaryPrimitives.WriteInt64LittleEndian(Grow(8), value);
    }

    /// <summary>t.</summary>
    public void WriteUInt64(ulong value)
    {
        Align(8);
        BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), value);
    }

    /// <summary>h: the index of the fd in the message's SCM_RIGHTS array (a UINT32).</summary>
    public void WriteUnixFdIndex(uint index) => WriteUInt32(index);

    /// <summary>s: UINT32 byte length, UTF-8 bytes, NUL. Embedded NULs are not allowed.</summary>
    public void WriteString(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        if (Array.IndexOf(bytes, (byte)0) >= 0)
        {
            throw new DBusException("a D-Bus string may not contain NUL");
        }

        WriteUInt32((uint)bytes.Length);
        Span<byte> s = Grow(bytes.Length + 1);
        bytes.CopyTo(s);
        s[^1] = 0;
    }

    /// <summary>o: marshalled as a string; the caller passes a valid path ("/org/freedesktop/systemd1").</summary>
    public void WriteObjectPath(string value) => WriteString(value);

    /// <summary>g: BYTE length, ASCII type codes, NUL.</summary>
    public void WriteSignature(string signature)
    {
        if (signature.Length > DBusLimits.MaxSignatureBytes)
        {
            throw new DBusException($"signature longer than {DBusLimits.MaxSignatureBytes} bytes");
        }

        WriteByte((byte)signature.Length);
        Span<byte> s = Grow(signature.Length + 1);
        Encoding.ASCII.GetBytes(signature, s);
        s[^1] = 0;
    }

    /// <summary>
    /// Starts an array: the UINT32 length (patched by <see cref="EndArray"/>), then padding to
    /// the element alignment. Returns the offset of the first element.
    /// </summary>
    public ArrayToken BeginArray(int elementAlignment)
    {
        WriteUInt32(0);
        int lengthAt = _length - 4;
        Align(elementAlignment);
        return new ArrayToken(lengthAt, _length);
    }

    /// <summary>Patches the array length: the bytes from the first element to the end of the last (no leading padding).</summary>
    public void EndArray(ArrayToken token) =>
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(token.LengthAt, 4), (uint)(_length - token.ElementsAt));

    /// <summary>Starts a struct or dict entry: both align to 8.</summary>
    public void BeginStruct() => Align(8);

    /// <summary>v: the signature of one single complete type, then the value written by <paramref name="value"/>.</summary>
    public void WriteVariant(string signature, Action<DBusWriter> value)
    {
        WriteSignature(signature);
        value(this);
    }

    /// <summary>as.</summary>
    public void WriteStringArray(IEnumerable<string> values)
    {
        ArrayToken a = BeginArray(4);
        foreach (string v in values)
        {
            WriteString(v);
        }

        EndArray(a);
    }

    private Span<byte> Grow(int count)
    {
        if (_length + count > DBusLimits.MaxMessageBytes)
        {
            throw new DBusException($"D-Bus message larger than {DBusLimits.MaxMessageBytes} bytes");
        }

        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        Span<byte> s = _buffer.AsSpan(_length, count);
        _length += count;
        return s;
    }

    /// <summary>Where an open array's length lives and where its elements begin.</summary>
    public readonly record struct ArrayToken(int LengthAt, int ElementsAt);
}
