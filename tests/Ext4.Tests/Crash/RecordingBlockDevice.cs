using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// Forwards every call to an inner writable device and logs, in issue order, each write (offset
/// and a copy of its bytes) and each flush. Thread-safe: the log order is the order in which
/// calls reached this device, and a write is logged and forwarded under one lock, so the inner
/// device's contents always equal the base image with the whole log applied in order.
/// <see cref="Crash"/> models power loss for the engine above: every later write or flush
/// fails with <see cref="Ext4IOException"/> and is neither forwarded nor logged.
/// </summary>
internal sealed class RecordingBlockDevice(IWritableBlockDevice inner) : IWritableBlockDevice
{
    /// <summary>Guards <see cref="_log"/>, <see cref="_crashed"/> and the forwarding of writes and flushes.</summary>
    private readonly Lock _lock = new();
    private readonly List<DeviceEvent> _log = [];
    private bool _crashed;

    public long Length => inner.Length;

    public bool CanWrite => inner.CanWrite;

    /// <summary>Number of events logged so far (a position in the log: events [0, Count) have been issued).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _log.Count;
            }
        }
    }

    public void Read(long offset, Span<byte> destination) => inner.Read(offset, destination);

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        lock (_lock)
        {
            ThrowIfCrashed($"write of {source.Length} bytes at offset {offset}");
            inner.Write(offset, source);
            _log.Add(new DeviceEvent(offset, source.ToArray()));
        }
    }

    /// <summary>File data: forwarded as data (so a direct-I/O inner device takes its own path), logged like any write.</summary>
    public void WriteData(long offset, ReadOnlySpan<byte> source)
    {
        lock (_lock)
        {
            ThrowIfCrashed($"data write of {source.Length} bytes at offset {offset}");
            inner.WriteData(offset, source);
            _log.Add(new DeviceEvent(offset, source.ToArray()));
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            ThrowIfCrashed("flush");
            inner.Flush();
            _log.Add(DeviceEvent.Flush());
        }
    }

    /// <summary>Power loss: from now on the device refuses writes and flushes. Returns the log as it stands.</summary>
    public IReadOnlyList<DeviceEvent> Crash()
    {
        lock (_lock)
        {
            _crashed = true;
            return _log.ToArray();
        }
    }

    private void ThrowIfCrashed(string what)
    {
        if (_crashed)
        {
            throw new Ext4IOException($"{what}: the device lost power (crash test)");
        }
    }
}
