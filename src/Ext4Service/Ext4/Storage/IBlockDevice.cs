namespace Safemount.Ext4.Storage;

/// <summary>
/// Random-access, read-only view of the device that holds the file system.
/// Implementations must be safe to call from several threads at once.
/// </summary>
public interface IBlockDevice
{
    /// <summary>Device size in bytes.</summary>
    long Length { get; }

    /// <summary>
    /// Fills <paramref name="destination"/> entirely from byte <paramref name="offset"/>.
    /// Throws <see cref="Ext4IOException"/> (message names offset and length) on a short read
    /// or an I/O error.
    /// </summary>
    void Read(long offset, Span<byte> destination);
}
