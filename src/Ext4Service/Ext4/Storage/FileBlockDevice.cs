using Microsoft.Win32.SafeHandles;

namespace Safemount.Ext4.Storage;

/// <summary>
/// <see cref="IBlockDevice"/> over a file or block-device handle, read with pread
/// (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>), which has no shared file
/// position and so is safe from several threads. Owns the handle.
/// </summary>
public sealed class FileBlockDevice : IBlockDevice, IDisposable
{
    private readonly SafeFileHandle _handle;

    /// <param name="handle">Open handle; ownership passes to this object.</param>
    /// <param name="length">Size in bytes as measured by the caller (BLKGETSIZE64 or st_size).</param>
    public FileBlockDevice(SafeFileHandle handle, long length)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _handle = handle;
        Length = length;
    }

    public long Length { get; }

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

    public void Dispose() => _handle.Dispose();
}
