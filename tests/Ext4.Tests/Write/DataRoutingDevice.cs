using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Forwards to an inner device and records, per entry point, which file-system blocks were
/// written: <see cref="DataBlocks"/> through <see cref="IWritableBlockDevice.WriteData"/> (file
/// data, possibly direct I/O in the service), <see cref="OtherBlocks"/> through
/// <see cref="IWritableBlockDevice.Write"/> (metadata, journal, superblock, zeroing).
/// Thread-safe.
/// </summary>
internal sealed class DataRoutingDevice(IWritableBlockDevice inner, int blockSize) : IWritableBlockDevice
{
    private readonly Lock _lock = new();

    /// <summary>Blocks written through WriteData (guarded by the lock).</summary>
    public HashSet<long> DataBlocks { get; } = [];

    /// <summary>Blocks written through Write (guarded by the lock).</summary>
    public HashSet<long> OtherBlocks { get; } = [];

    /// <summary>Bytes written through WriteData.</summary>
    public long DataBytes { get; private set; }

    public long Length => inner.Length;

    public bool CanWrite => inner.CanWrite;

    public void Read(long offset, Span<byte> destination) => inner.Read(offset, destination);

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        inner.Write(offset, source);
        Record(OtherBlocks, offset, source.Length);
    }

    public void WriteData(long offset, ReadOnlySpan<byte> source)
    {
        inner.WriteData(offset, source);
        lock (_lock)
        {
            DataBytes += source.Length;
        }

        Record(DataBlocks, offset, source.Length);
    }

    public void Flush() => inner.Flush();

    private void Record(HashSet<long> set, long offset, int length)
    {
        if (length == 0)
        {
            return;
        }

        lock (_lock)
        {
            for (long b = offset / blockSize; b <= (offset + length - 1) / blockSize; b++)
            {
                set.Add(b);
            }
        }
    }
}
