using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// A writable image in memory that records the byte ranges written, so a mutation test can
/// restore just those from the pristine copy after each case.
/// </summary>
internal sealed class WritableMemoryDevice(byte[] image) : IWritableBlockDevice
{
    public List<(long Offset, int Length)> Writes { get; } = new();

    public int Flushes { get; private set; }

    public long Length => image.Length;

    public bool CanWrite => true;

    public void Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > image.Length || destination.Length > image.Length - offset)
        {
            throw new Ext4IOException($"read of {destination.Length} bytes at offset {offset} is beyond the end of the device");
        }

        image.AsSpan((int)offset, destination.Length).CopyTo(destination);
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (offset < 0 || offset > image.Length || source.Length > image.Length - offset)
        {
            throw new Ext4IOException($"write of {source.Length} bytes at offset {offset} is beyond the end of the device");
        }

        Writes.Add((offset, source.Length));
        source.CopyTo(image.AsSpan((int)offset));
    }

    public void Flush() => Flushes++;
}
