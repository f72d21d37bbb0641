using Safemount.Ext4.Storage;

namespace Safemount.Ext4;

/// <summary>
/// A handle on the running transaction (jbd2: handle_t from jbd2_journal_start): every metadata
/// change goes through one. Obtained from <see cref="Ext4Volume.Begin"/>, used by one thread,
/// disposed on that thread. A commit never cuts a handle in half (Ext4Volume.Journal.cs).
///
/// Metadata edits are copy-on-write (see <see cref="BlockCache"/>): <see cref="Modify"/> copies the
/// newest version, runs the edit, installs the copy and leaves the block dirty; the next
/// <see cref="Ext4Volume.Sync"/> logs it (with a journal) or writes it home (without). File data
/// bypasses the cache and the journal (<see cref="WriteData"/>): ordered mode, the commit flushes
/// it before its commit block.
///
/// Lock order (Ext4Volume documents the whole order): inode locks, then this handle, then
/// allocator group locks, then the per-block stripe lock inside Modify and the cache's lock.
/// Ownership: the caller holds the lock that owns every block it edits (the inode's lock for its
/// extent, directory and xattr blocks, the group lock for bitmaps); Modify serializes only the
/// copy-edit-install of one block, so blocks shared by several owners (inode table blocks,
/// descriptor blocks, the superblock) stay consistent.
/// </summary>
internal sealed class Ext4Transaction : IDisposable
{
    private readonly Ext4Volume _volume;
    private bool _disposed;

    internal Ext4Transaction(Ext4Volume volume)
    {
        _volume = volume;
    }

    public Ext4Volume Volume => _volume;

    /// <summary>Edits metadata block <paramref name="block"/> (read through the cache if needed); <paramref name="what"/> names it for errors.</summary>
    public void Modify(ulong block, string what, BlockEdit edit)
    {
        ThrowIfDisposed();
        _volume.CheckBlockRange(block, 1, what);
        _volume.EditBlock(block, edit, fromZero: false);
    }

    /// <summary>Edits the block holding the primary superblock (block 0 with blocks over 1 KiB, else 1).</summary>
    internal void ModifyPrimarySuperblock(BlockEdit edit)
    {
        ThrowIfDisposed();
        _volume.EditBlock(_volume.SuperblockBlock, edit, fromZero: false);
    }

    /// <summary>A block just allocated as metadata: the edit starts from zeros, nothing is read from the device.</summary>
    public void Create(ulong block, string what, BlockEdit edit)
    {
        ThrowIfDisposed();
        _volume.CheckBlockRange(block, 1, what);
        _volume.EditBlock(block, edit, fromZero: true);
    }

    /// <summary>
    /// A metadata block that was just freed: any cached or dirty version is dropped and never
    /// written back. (Its copies in the live journal are revoked when the freeing transaction
    /// commits: the allocator reports every freed block to FreedBlocks.)
    /// </summary>
    public void Forget(ulong block)
    {
        ThrowIfDisposed();
        _volume.Cache.Remove(block);
    }

    /// <summary>
    /// Writes file data at byte <paramref name="offsetInBlock"/> of data block <paramref name="block"/>
    /// (it may run on into the following blocks) straight to the device
    /// (<see cref="IWritableBlockDevice.WriteData"/>: possibly direct I/O).
    /// </summary>
    public void WriteData(ulong block, int offsetInBlock, ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(offsetInBlock);
        if (data.IsEmpty)
        {
            return;
        }

        ulong blocks = ((ulong)offsetInBlock + (ulong)data.Length + _volume.BlockSize - 1) >> _volume.BlockSizeBits;
        _volume.CheckBlockRange(block, blocks, "file data");
        _volume.WritableDevice.WriteData(checked(((long)block << _volume.BlockSizeBits) + offsetInBlock), data);
        _volume.CountDataWritten(data.Length);
    }

    /// <summary>Fills data blocks [<paramref name="firstBlock"/>, +<paramref name="count"/>) with zeros on the device.</summary>
    public void ZeroData(ulong firstBlock, uint count)
    {
        ThrowIfDisposed();
        if (count == 0)
        {
            return;
        }

        _volume.CheckBlockRange(firstBlock, count, "file data");
        const int ChunkBytes = 1 << 20;
        long offset = checked((long)firstBlock << _volume.BlockSizeBits);
        long remaining = (long)count << _volume.BlockSizeBits;
        byte[] zeros = new byte[(int)Math.Min(remaining, ChunkBytes)];
        while (remaining > 0)
        {
            int n = (int)Math.Min(remaining, zeros.Length);
            _volume.WritableDevice.Write(offset, zeros.AsSpan(0, n));
            offset += n;
            remaining -= n;
        }

        _volume.CountDataWritten((long)count << _volume.BlockSizeBits);
    }

    /// <summary>Ends the handle (jbd2_journal_stop); the changes stay in the running transaction.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _volume.EndHandle();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
