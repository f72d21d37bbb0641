using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// A writable image file whose power can be cut: until <see cref="Cut"/> it forwards to a
/// <see cref="FileBlockDevice"/>; from then on every write and flush fails with
/// <see cref="Ext4IOException"/> (a dead disk), so a volume abandoned without Unmount — and any
/// background commit it still runs — can no longer change the image. Reads keep working.
/// Invariant: a write that began before <see cref="Cut"/> has completed when Cut returns (writes
/// hold the read side of <see cref="_power"/>, Cut takes the write side), so the image is frozen
/// from then on. Owns the file handle.
/// </summary>
internal sealed class PowerCutDevice : IWritableBlockDevice, IDisposable
{
    private readonly FileBlockDevice _inner;
    private readonly ReaderWriterLockSlim _power = new(LockRecursionPolicy.NoRecursion);
    private bool _cut;
    private int _writes;
    private int _flushes;

    public PowerCutDevice(string imagePath)
    {
        var handle = File.OpenHandle(imagePath, FileMode.Open, FileAccess.ReadWrite);
        _inner = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true);
    }

    /// <summary>Writes that reached the file (none after the cut).</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Flushes that reached the file (none after the cut).</summary>
    public int Flushes => Volatile.Read(ref _flushes);

    public long Length => _inner.Length;

    public bool CanWrite => true;

    public void Read(long offset, Span<byte> destination) => _inner.Read(offset, destination);

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        _power.EnterReadLock();
        try
        {
            ThrowIfCut();
            _inner.Write(offset, source);
            Interlocked.Increment(ref _writes);
        }
        finally
        {
            _power.ExitReadLock();
        }
    }

    public void Flush()
    {
        _power.EnterReadLock();
        try
        {
            ThrowIfCut();
            _inner.Flush();
            Interlocked.Increment(ref _flushes);
        }
        finally
        {
            _power.ExitReadLock();
        }
    }

    /// <summary>Cuts the power: waits for writes in progress, then refuses all later ones.</summary>
    public void Cut()
    {
        _power.EnterWriteLock();
        try
        {
            _cut = true;
        }
        finally
        {
            _power.ExitWriteLock();
        }
    }

    public void Dispose()
    {
        Cut();
        _inner.Dispose();
    }

    private void ThrowIfCut()
    {
        if (_cut)
        {
            throw new Ext4IOException("the device lost power (test crash)");
        }
    }
}
