using System.Buffers.Binary;
using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// A copy-on-write view of a base image: 4 KiB pages are copied on first write, everything
/// else is read from the shared clean bytes. Thousands of mutated images thus cost a few pages
/// each instead of a full copy. Used by one thread at a time.
/// </summary>
internal sealed class MutatedImage : IBlockDevice
{
    private const int PageShift = 12;
    private const int PageSize = 1 << PageShift;
    private readonly byte[] _base;
    private readonly Dictionary<long, byte[]> _pages = new();

    public MutatedImage(BaseImage image)
    {
        Base = image;
        _base = image.Bytes;
    }

    public BaseImage Base { get; }

    public long Length => _base.Length;

    /// <summary>Human-readable list of what was done to this image (for failure reports).</summary>
    public List<string> Log { get; } = [];

    /// <summary>Pages written so far (a rough measure of how much was changed).</summary>
    public int DirtyPages => _pages.Count;

    /// <summary>When not null, every device read is appended here as (offset, length) (the walker arms it around file reads).</summary>
    public List<(long Offset, int Length)>? ReadLog { get; set; }

    public void Read(long offset, Span<byte> destination)
    {
        ReadLog?.Add((offset, destination.Length));
        if (offset < 0 || offset > _base.Length || destination.Length > _base.Length - offset)
        {
            throw new Ext4IOException($"read of {destination.Length} bytes at offset {offset} is beyond the end of the device");
        }

        int done = 0;
        while (done < destination.Length)
        {
            long at = offset + done;
            long page = at >> PageShift;
            int inPage = (int)(at & (PageSize - 1));
            int n = Math.Min(PageSize - inPage, destination.Length - done);
            var src = _pages.TryGetValue(page, out var p) ? p.AsSpan(inPage, n) : _base.AsSpan((int)at, n);
            src.CopyTo(destination.Slice(done, n));
            done += n;
        }
    }

    public byte this[long offset]
    {
        get => _pages.TryGetValue(offset >> PageShift, out var p) ? p[offset & (PageSize - 1)] : _base[offset];
        set
        {
            if (this[offset] != value)
            {
                Page(offset)[offset & (PageSize - 1)] = value; // unchanged bytes never copy a page
            }
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            this[offset + i] = bytes[i];
        }
    }

    /// <summary>A copy of [offset, offset+count) as the image now reads.</summary>
    public byte[] Slice(long offset, int count)
    {
        var b = new byte[count];
        Read(offset, b);
        return b;
    }

    public ushort U16(long o) => (ushort)(this[o] | (this[o + 1] << 8));

    public uint U32(long o) => (uint)(U16(o) | (U16(o + 2) << 16));

    public void W16(long o, ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        Write(o, b);
    }

    public void W32(long o, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        Write(o, b);
    }

    /// <summary>Writes the low <paramref name="size"/> bytes (1, 2, 4 or 8) of <paramref name="v"/> little-endian.</summary>
    public void WriteField(long o, int size, ulong v)
    {
        for (int i = 0; i < size; i++)
        {
            this[o + i] = (byte)(v >> (8 * i));
        }
    }

    public ulong ReadField(long o, int size)
    {
        ulong v = 0;
        for (int i = 0; i < size; i++)
        {
            v |= (ulong)this[o + i] << (8 * i);
        }

        return v;
    }

    private byte[] Page(long offset)
    {
        long page = offset >> PageShift;
        if (!_pages.TryGetValue(page, out var p))
        {
            p = new byte[PageSize];
            long start = page << PageShift;
            int n = (int)Math.Min(PageSize, _base.Length - start);
            _base.AsSpan((int)start, n).CopyTo(p);
            _pages[page] = p;
        }

        return p;
    }
}
