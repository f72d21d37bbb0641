using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Caching;

/// <summary>
/// An image in memory whose reads are recorded and, when armed, stopped half-way: the next read
/// copies the image as it is when the read starts, signals <see cref="Entered"/>, waits for
/// <see cref="Release"/> and only then delivers the copy, as a pread racing a concurrent write
/// home delivers the bytes it found. The test changes the image meanwhile through <see cref="WriteBlock"/>.
/// </summary>
internal sealed class GatedMemoryDevice : IBlockDevice
{
    private readonly byte[] _image;
    private readonly int _blockSize;
    private readonly object _lock = new();
    private readonly List<(long Offset, int Length)> _reads = new(); // guarded by _lock
    private bool _armed;                                              // guarded by _lock

    public GatedMemoryDevice(int blocks, int blockSize)
    {
        _blockSize = blockSize;
        _image = new byte[blocks * blockSize];
        for (int b = 0; b < blocks; b++)
        {
            WriteBlock(b, Version(b, 0));
        }
    }

    public long Length => _image.Length;

    public ManualResetEventSlim Entered { get; } = new();

    public ManualResetEventSlim Release { get; } = new();

    /// <summary>Every read so far as (first block, block count).</summary>
    public List<(long Block, int Count)> Reads
    {
        get
        {
            lock (_lock)
            {
                return _reads.Select(r => (r.Offset / _blockSize, r.Length / _blockSize)).ToList();
            }
        }
    }

    /// <summary>The contents of <paramref name="block"/> at <paramref name="version"/>: every byte names both.</summary>
    public byte[] Version(long block, int version)
    {
        var data = new byte[_blockSize];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((block * 7) + (version * 101) + (i % 5));
        }

        return data;
    }

    /// <summary>The next read stops at the gate.</summary>
    public void Arm()
    {
        lock (_lock)
        {
            _armed = true;
        }
    }

    public void WriteBlock(long block, byte[] data)
    {
        lock (_lock)
        {
            data.CopyTo(_image.AsSpan(checked((int)(block * _blockSize))));
        }
    }

    public void Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > _image.Length || destination.Length > _image.Length - offset)
        {
            throw new Ext4IOException($"read of {destination.Length} bytes at offset {offset} is beyond the end of the device");
        }

        byte[] copy;
        bool gated;
        lock (_lock)
        {
            _reads.Add((offset, destination.Length));
            copy = _image.AsSpan((int)offset, destination.Length).ToArray();
            gated = _armed;
            _armed = false;
        }

        if (gated)
        {
            Entered.Set();
            if (!Release.Wait(TimeSpan.FromMinutes(2)))
            {
                throw new TimeoutException("the test never opened the gate");
            }
        }

        copy.CopyTo(destination);
    }
}
