using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Safemount.Fuse.Abi;

namespace Safemount.Fuse;

/// <summary>
/// Cursor over the body of one request (the bytes after fuse_in_header, extensions removed).
/// Every read checks the remaining length first and fails with
/// <see cref="FuseMalformedRequestException"/>; nothing here can index out of range.
/// </summary>
internal ref struct FuseRequestReader
{
    private ReadOnlySpan<byte> remaining;

    public FuseRequestReader(ReadOnlySpan<byte> body)
    {
        this.remaining = body;
    }

    /// <summary>Bytes not yet consumed.</summary>
    public readonly int Remaining => this.remaining.Length;

    /// <summary>Splits a request as read() returned it into header and body.</summary>
    /// <returns>false when <paramref name="request"/> is shorter than fuse_in_header, so not
    /// even its unique can be trusted (the request must be dropped).</returns>
    public static bool TryReadHeader(ReadOnlySpan<byte> request, out FuseInHeader header)
    {
        if (request.Length < FuseInHeader.SizeOf)
        {
            header = default;
            return false;
        }

        header = MemoryMarshal.Read<FuseInHeader>(request);
        return true;
    }

    /// <summary>The op arguments of a request whose header is valid: checks that len equals the
    /// bytes read and that total_extlen fits, and strips the extensions.</summary>
    public static ReadOnlySpan<byte> GetBody(ReadOnlySpan<byte> request, in FuseInHeader header)
    {
        if (header.Len != (uint)request.Length)
        {
            throw new FuseMalformedRequestException($"len {header.Len} but read() returned {request.Length} bytes");
        }

        int bodyLength = request.Length - FuseInHeader.SizeOf;
        int extensionLength = header.TotalExtlen * 8;
        if (extensionLength > bodyLength)
        {
            throw new FuseMalformedRequestException($"total_extlen {header.TotalExtlen} exceeds the {bodyLength}-byte body");
        }

        return request.Slice(FuseInHeader.SizeOf, bodyLength - extensionLength);
    }

    /// <summary>Reads one fixed-size op struct.</summary>
    public T Read<T>()
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (this.remaining.Length < size)
        {
            throw new FuseMalformedRequestException($"{typeof(T).Name} needs {size} bytes, {this.remaining.Length} left");
        }

        T value = MemoryMarshal.Read<T>(this.remaining);
        this.remaining = this.remaining[size..];
        return value;
    }

    /// <summary>Reads an op struct that older protocol minors send shorter: at least
    /// <paramref name="minimumSize"/> bytes are required, missing trailing fields read as zero.</summary>
    public T ReadCompat<T>(int minimumSize)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (this.remaining.Length >= size)
        {
            return this.Read<T>();
        }

        if (this.remaining.Length < minimumSize)
        {
            throw new FuseMalformedRequestException($"{typeof(T).Name} needs at least {minimumSize} bytes, {this.remaining.Length} left");
        }

        T value = default;
        this.remaining.CopyTo(MemoryMarshal.AsBytes(new Span<T>(ref value)));
        this.remaining = default;
        return value;
    }

    /// <summary>Reads exactly the first <paramref name="size"/> bytes of an op struct whose
    /// negotiated wire form is shorter than the full struct (fuse_setxattr_in without
    /// FUSE_SETXATTR_EXT); the fields past <paramref name="size"/> read as zero.</summary>
    public T ReadPrefix<T>(int size)
        where T : unmanaged
    {
        if ((uint)size > (uint)Unsafe.SizeOf<T>())
        {
            throw new ArgumentOutOfRangeException(nameof(size));
        }

        if (this.remaining.Length < size)
        {
            throw new FuseMalformedRequestException($"{typeof(T).Name} needs {size} bytes, {this.remaining.Length} left");
        }

        T value = default;
        this.remaining[..size].CopyTo(MemoryMarshal.AsBytes(new Span<T>(ref value)));
        this.remaining = this.remaining[size..];
        return value;
    }

    /// <summary>Reads exactly <paramref name="count"/> raw bytes (alleged by the kernel, so checked).</summary>
    public ReadOnlySpan<byte> ReadBytes(uint count)
    {
        if ((uint)this.remaining.Length < count)
        {
            throw new FuseMalformedRequestException($"{count} data bytes announced, {this.remaining.Length} left");
        }

        ReadOnlySpan<byte> data = this.remaining[..(int)count];
        this.remaining = this.remaining[(int)count..];
        return data;
    }

    /// <summary>Reads a NUL-terminated name (1..<see cref="FuseAbi.NameMax"/> bytes) and returns
    /// it without the NUL.</summary>
    public ReadOnlySpan<byte> ReadName()
    {
        int searchLength = Math.Min(this.remaining.Length, FuseAbi.NameMax + 1);
        int nul = this.remaining[..searchLength].IndexOf((byte)0);
        if (nul < 0)
        {
            throw new FuseMalformedRequestException(searchLength == this.remaining.Length
                ? "name is not NUL-terminated"
                : $"name longer than {FuseAbi.NameMax} bytes");
        }

        if (nul == 0)
        {
            throw new FuseMalformedRequestException("empty name");
        }

        ReadOnlySpan<byte> name = this.remaining[..nul];
        this.remaining = this.remaining[(nul + 1)..];
        return name;
    }
}
