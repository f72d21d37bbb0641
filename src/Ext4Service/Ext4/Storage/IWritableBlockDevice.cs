namespace Safemount.Ext4.Storage;

/// <summary>
/// A device that can also be written: the minimum journal replay needs (and what the
/// read-write engine builds on). Writes are not durable until <see cref="Flush"/> returns.
/// Implementations must be safe to call from several threads at once for disjoint ranges.
/// </summary>
public interface IWritableBlockDevice : IBlockDevice
{
    /// <summary>False when the device was opened read-only: <see cref="Write"/> then always fails.</summary>
    bool CanWrite { get; }

    /// <summary>
    /// Writes all of <paramref name="source"/> at byte <paramref name="offset"/>, which must lie
    /// inside the device. Throws <see cref="Ext4IOException"/> (message names offset and length)
    /// on a range outside the device or an I/O error.
    /// </summary>
    void Write(long offset, ReadOnlySpan<byte> source);

    /// <summary>
    /// <see cref="Write"/> for file data only (the blocks of regular files, written outside the
    /// journal; never a block the metadata <see cref="BlockCache"/> holds). Same contract and
    /// durability as <see cref="Write"/> (<see cref="Flush"/> covers it); an implementation may
    /// send the aligned part straight to the device, bypassing the page cache (O_DIRECT). The
    /// engine calls it only under the owning inode's lock, so no other write of the range runs
    /// at the same time.
    /// </summary>
    void WriteData(long offset, ReadOnlySpan<byte> source) => Write(offset, source);

    /// <summary>Makes every completed write durable (fsync). Throws <see cref="Ext4IOException"/>.</summary>
    void Flush();
}
