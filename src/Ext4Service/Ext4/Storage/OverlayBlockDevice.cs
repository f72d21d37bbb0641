namespace Safemount.Ext4.Storage;

/// <summary>
/// A read-only view of <see cref="Inner"/> in which some blocks read differently: either from
/// another place of the inner device (a redirect, e.g. to the newest journal copy of a block)
/// or from bytes held in memory (a replacement). Journal replay for read-only opens builds one
/// so that the volume reads its replayed state while the device itself is never written.
///
/// Memory: 16 bytes per redirect plus one block per replacement; the journal replay creates at
/// most one entry per journal block, so the overlay is bounded by the journal size. The
/// overlay is filled before it is shared and never changed afterwards (<see cref="Seal"/>),
/// so reads are safe from several threads.
/// </summary>
public sealed class OverlayBlockDevice : IBlockDevice
{
    private readonly int _blockSize;
    private readonly Dictionary<ulong, long> _redirects = new();       // block -> byte offset on Inner
    private readonly Dictionary<ulong, byte[]> _replacements = new();  // block -> its bytes (block size)
    private bool _sealed;

    public OverlayBlockDevice(IBlockDevice inner, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (blockSize < 512 || (blockSize & (blockSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize));
        }

        Inner = inner;
        _blockSize = blockSize;
    }

    /// <summary>The device below; never written through this object.</summary>
    public IBlockDevice Inner { get; }

    public long Length => Inner.Length;

    /// <summary>Number of blocks that read differently from the inner device.</summary>
    public int Count => _redirects.Count + _replacements.Count;

    /// <summary>Block <paramref name="block"/> reads from byte <paramref name="sourceOffset"/> of the inner device.</summary>
    public void Redirect(ulong block, long sourceOffset)
    {
        CheckMutable(block);
        if (sourceOffset < 0 || sourceOffset > Inner.Length - _blockSize)
        {
            throw new Ext4IOException($"redirect of block {block} to offset {sourceOffset} is beyond the end of the device");
        }

        _replacements.Remove(block);
        _redirects[block] = sourceOffset;
    }

    /// <summary>Block <paramref name="block"/> reads as <paramref name="data"/> (copied; one block).</summary>
    public void Replace(ulong block, ReadOnlySpan<byte> data)
    {
        CheckMutable(block);
        if (data.Length != _blockSize)
        {
            throw new ArgumentException($"a replacement must be one block ({_blockSize} bytes)", nameof(data));
        }

        _redirects.Remove(block);
        _replacements[block] = data.ToArray();
    }

    /// <summary>Ends construction; from now on the overlay is immutable and may be shared.</summary>
    public void Seal() => _sealed = true;

    public void Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > Length || destination.Length > Length - offset)
        {
            throw new Ext4IOException(
                $"read of {destination.Length} bytes at offset {offset} is beyond the end of the device ({Length} bytes)");
        }

        // Walk block by block; runs of blocks without an entry go to the inner device in one read.
        int done = 0;
        int passStart = 0;
        while (done < destination.Length)
        {
            long at = offset + done;
            ulong block = (ulong)(at / _blockSize);
            int within = (int)(at % _blockSize);
            int n = Math.Min(_blockSize - within, destination.Length - done);
            bool redirected = _redirects.TryGetValue(block, out long source);
            bool replaced = !redirected && _replacements.TryGetValue(block, out _);
            if (redirected || replaced)
            {
                if (passStart < done)
                {
                    Inner.Read(offset + passStart, destination[passStart..done]);
                }

                if (redirected)
                {
                    Inner.Read(source + within, destination.Slice(done, n));
                }
                else
                {
                    _replacements[block].AsSpan(within, n).CopyTo(destination.Slice(done, n));
                }

                passStart = done + n;
            }

            done += n;
        }

        if (passStart < done)
        {
            Inner.Read(offset + passStart, destination[passStart..done]);
        }
    }

    private void CheckMutable(ulong block)
    {
        if (_sealed)
        {
            throw new InvalidOperationException("the overlay is sealed");
        }

        if (block >= (ulong)(Inner.Length / _blockSize))
        {
            throw new Ext4IOException($"overlay block {block} is beyond the end of the device ({Inner.Length} bytes)");
        }
    }
}
