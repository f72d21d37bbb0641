using System.Buffers.Binary;
using System.Text;

namespace Safemount.Shared.DBus;

/// <summary>
/// A cursor over little-endian D-Bus data (D-Bus specification, "Marshaling"). Alignment counts
/// from offset 0 of the buffer, the start of the message. Every length is checked against the
/// bytes left before slicing; padding must be zero, booleans 0 or 1, strings valid UTF-8 with a
/// NUL terminator and no NUL inside. Bad input throws <see cref="DBusException"/>, never an
/// index exception.
/// </summary>
public sealed class DBusReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly int _end;

    /// <param name="data">The whole message (alignment is relative to its offset 0).</param>
    /// <param name="position">Where reading starts.</param>
    /// <param name="end">One past the last byte this reader may read.</param>
    public DBusReader(byte[] data, int position, int end)
    {
        if (position < 0 || end > data.Length || position > end)
        {
            throw new ArgumentOutOfRangeException(nameof(position));
        }

        _data = data;
        Position = position;
        _end = end;
    }

    public int Position { get; private set; }

    public bool AtEnd => Position == _end;

    public void Align(int alignment)
    {
        int pad = (alignment - (Position % alignment)) % alignment;
        ReadOnlySpan<byte> p = Take(pad, "padding");
        foreach (byte b in p)
        {
            if (b != 0)
            {
                throw new DBusException("non-zero alignment padding");
            }
        }
    }

    public byte ReadByte() => Take(1, "byte")[0];

    public bool ReadBoolean()
    {
        uint v = ReadUInt32();
        return v switch
        {
            0 => false,
            1 => true,
            _ => throw new DBusException($"boolean value {v} is neither 0 nor 1"),
        };
    }

    public uint ReadUInt32()
    {
        Align(4);
        return BinaryPrimitives.ReadUInt32LittleEndian(Take(4, "UINT32"));
    }

    public int ReadInt32()
    {
        Align(4);
        return BinaryPrimitives.ReadInt32LittleEndian(Take(4, "INT32"));
    }

    public ulong ReadUInt64()
    {
        Align(8);
        return BinaryPrimitives.ReadUInt64LittleEndian(Take(8, "UINT64"));
    }

    public string ReadString()
    {
        uint length = ReadUInt32();
        if (length > (uint)(_end - Position))
        {
            throw new DBusException($"string length {length} runs past the end of the data");
        }

        ReadOnlySpan<byte> bytes = Take((int)length + 1, "string");
        return DecodeText(bytes);
    }

    public string ReadObjectPath() => ReadString();

    public string ReadSignature()
    {
        byte length = ReadByte();
        ReadOnlySpan<byte> bytes = Take(length + 1, "signature");
        string s = DecodeText(bytes);
        foreach (char c in s)
        {
            if (!"ybnqiuxtdsoghav(){}".Contains(c, StringComparison.Ordinal))
            {
                throw new DBusException($"signature contains the invalid type code '{c}'");
            }
        }

        return s;
    }

    /// <summary>Reads an array's length and padding; returns the offset where its elements end.</summary>
    public int BeginArray(int elementAlignment)
    {
        uint length = ReadUInt32();
        if (length > DBusLimits.MaxMessageBytes)
        {
            throw new DBusException($"array length {length} is larger than {DBusLimits.MaxMessageBytes}");
        }

        Align(elementAlignment);
        if (length > (uint)(_end - Position))
        {
            throw new DBusException($"array length {length} runs past the end of the data");
        }

        return Position + (int)length;
    }

    /// <summary>Skips one single complete type of <paramref name="signature"/> starting at <paramref name="index"/>; returns the index after it.</summary>
    public int SkipValue(string signature, int index = 0, int depth = 0)
    {
        if (depth > DBusLimits.MaxNestingDepth)
        {
            throw new DBusException("values nested too deeply");
        }

        if (index >= signature.Length)
        {
            throw new DBusException($"incomplete signature '{signature}'");
        }

        char c = signature[index];
        switch (c)
        {
            case 'y':
                ReadByte();
                return index + 1;
            case 'n':
            case 'q':
                Align(2);
                Take(2, "INT16");
                return index + 1;
            case 'b':
                ReadBoolean();
                return index + 1;
            case 'i':
            case 'u':
            case 'h':
                ReadUInt32();
                return index + 1;
            case 'x':
            case 't':
            case 'd':
                ReadUInt64();
                return index + 1;
            case 's':
            case 'o':
                ReadString();
                return index + 1;
            case 'g':
                ReadSignature();
                return index + 1;
            case 'v':
                string inner = ReadSignature();
                if (SkipValue(inner, 0, depth + 1) != inner.Length)
                {
                    throw new DBusException($"variant signature '{inner}' is not one single complete type");
                }

                return index + 1;
            case 'a':
                int elementEnd = SkipSignature(signature, index + 1, depth + 1);
                int end = BeginArray(AlignmentOf(signature[index + 1]));
                while (Position < end)
                {
                    SkipValue(signature, index + 1, depth + 1);
                }

                if (Position != end)
                {
                    throw new DBusException("array elements overrun the array length");
                }

                return elementEnd;
            case '(':
            case '{':
                char close = c == '(' ? ')' : '}';
                Align(8);
                int i = index + 1;
                while (i < signature.Length && signature[i] != close)
                {
                    i = SkipValue(signature, i, depth + 1);
                }

                if (i >= signature.Length)
                {
                    throw new DBusException($"unterminated container in signature '{signature}'");
                }

                return i + 1;
            default:
                throw new DBusException($"unexpected type code '{c}' in signature '{signature}'");
        }
    }

    /// <summary>The alignment of a type code (structs and dict entries 8, arrays 4, variants 1).</summary>
    public static int AlignmentOf(char typeCode) => typeCode switch
    {
        'y' or 'g' or 'v' => 1,
        'n' or 'q' => 2,
        'b' or 'i' or 'u' or 'h' or 's' or 'o' or 'a' => 4,
        'x' or 't' or 'd' or '(' or '{' => 8,
        _ => throw new DBusException($"unknown type code '{typeCode}'"),
    };

    /// <summary>Index after the single complete type at <paramref name="index"/> of <paramref name="signature"/> (no data read).</summary>
    private static int SkipSignature(string signature, int index, int depth)
    {
        if (depth > DBusLimits.MaxNestingDepth || index >= signature.Length)
        {
            throw new DBusException($"invalid signature '{signature}'");
        }

        char c = signature[index];
        if (c == 'a')
        {
            return SkipSignature(signature, index + 1, depth + 1);
        }

        if (c is '(' or '{')
        {
            char close = c == '(' ? ')' : '}';
            int i = index + 1;
            while (i < signature.Length && signature[i] != close)
            {
                i = SkipSignature(signature, i, depth + 1);
            }

            if (i >= signature.Length)
            {
                throw new DBusException($"unterminated container in signature '{signature}'");
            }

            return i + 1;
        }

        AlignmentOf(c);
        return index + 1;
    }

    private static string DecodeText(ReadOnlySpan<byte> withNul)
    {
        if (withNul[^1] != 0)
        {
            throw new DBusException("string is not NUL-terminated");
        }

        ReadOnlySpan<byte> text = withNul[..^1];
        if (text.IndexOf((byte)0) >= 0)
        {
            throw new DBusException("string contains NUL");
        }

        try
        {
            return StrictUtf8.GetString(text);
        }
        catch (DecoderFallbackException)
        {
            throw new DBusException("string is not valid UTF-8");
        }
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count < 0 || count > _end - Position)
        {
            throw new DBusException($"{what} runs past the end of the data");
        }

        ReadOnlySpan<byte> s = _data.AsSpan(Position, count);
        Position += count;
        return s;
    }
}
