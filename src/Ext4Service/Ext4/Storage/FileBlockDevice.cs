using Microsoft.Win32.SafeHandles;

namespace Safemount.Ext4.Storage;

/// <summary>
/// <see cref="IBlockDevice"/> over a file or block-device handle, read with pread
/// (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>) and written with pwrite,
/// which have no shared file position and so are safe from several threads. Owns the handle.
/// Writes are allowed only when constructed with <c>writable</c> (the handle must then be open
/// for writing); otherwise <see cref="Write"/> fails with <see cref="Ext4IOException"/>.
/// </summary>
public sealed class FileBlockDevice : IWritableBlockDevice, IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly bool _writable;

    /// <param name="handle">Open handle; ownership passes to this object.</param>
    /// <param name="length">Size in bytes as measured by the caller (BLKGETSIZE64 or st_size).</param>
    /// <param name="writable">The handle is open for writing and the device may be written.</param>
    public FileBlockDevice(SafeFileHandle handle, long length, bool writable = false)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _handle = handle;
        _writable = writable;
        Length = length;
    }

    public long Length { get; }

    public bool CanWrite => _writable;

    public void Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > Length || destination.Length > Length - offset)
        {
            throw new Ext4IOException(
                $"read of {destination.Length} bytes at offset {offset} is beyond the end of the device ({Length} bytes)");
        }

        int done = 0;
        while (done < destination.Length)
        {
            int n;
            try
            {
                n = RandomAccess.Read(_handle, destination[done..], offset + done);
            }
            catch (IOException e)
            {
                throw new Ext4IOException(
                    $"I/O error reading {destination.Length} bytes at offset {offset}: {e.Message}", e);
            }

            if (n <= 0)
            {
                throw new Ext4IOException(
                    $"short read: {done} of {destination.Length} bytes at offset {offset}");
            }

            done += n;
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (!_writable)
        {
            throw new Ext4IOException($"write of {source.Length} bytes at offset {offset}: the device was opened read-only");
        }

        if (offset < 0 || offset > Length || source.Length > Length - offset)
        {
            throw new Ext4IOException(
                $"write of {source.Length} bytes at offset {offset} is beyond the end of the device ({Length} bytes)");
        }

        try
        {
            // RandomAccess.Write loops until every byte is written or throws.
            RandomAccess.Write(_handle, source, offset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new Ext4IOException($"I/O error writing {source.Length} bytes at offset {offset}: {e.Message}", e);
        }
    }

    public void Flush()
    {
        if (!_writable)
        {
            return;
        }

        try
        {
            RandomAccess.FlushToDisk(_handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Ext4IOException($"I/O error flushing the device: {e.Message}", e);
        }
    }

    public void Dispose() => _handle.Dispose();
}
