using Safemount.Ext4.Format;

namespace Safemount.Ext4;

/// <summary>
/// Reads file contents. Physically contiguous runs are read with one device read straight into
/// the caller's buffer, bypassing the metadata cache; holes and unwritten extents are zeros.
/// </summary>
internal sealed partial class FileData
{
    private readonly Ext4Volume _v;

    public FileData(Ext4Volume volume) => _v = volume;

    /// <summary>Largest logical block number + 1 an ext4 file can have (ext4_lblk_t is 32 bits).</summary>
    private const ulong MaxLogicalBlocks = 1UL << 32;

    public int Read(Ext4Inode inode, long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= inode.Size || destination.IsEmpty)
        {
            return 0;
        }

        if (inode.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL))
        {
            return InlineData.Read(_v, inode, offset, destination);
        }

        int total = (int)Math.Min(destination.Length, inode.Size - offset);
        int done = 0;
        uint bs = _v.BlockSize;
        while (done < total)
        {
            long pos = offset + done;
            ulong lblk = (ulong)pos >> _v.BlockSizeBits;
            int inBlock = (int)(pos & (bs - 1));
            int remaining = total - done;
            if (lblk >= MaxLogicalBlocks)
            {
                throw new Ext4CorruptionException($"inode {inode.Number}: i_size {inode.Size} exceeds the largest ext4 file");
            }

            uint wanted = (uint)Math.Min(((ulong)inBlock + (ulong)remaining + bs - 1) / bs, MaxLogicalBlocks - lblk);
            var run = Map(inode, (uint)lblk, wanted);
            int bytes = (int)Math.Min((long)remaining, ((long)run.Length * bs) - inBlock);
            var slice = destination.Slice(done, bytes);
            if (run.Kind == BlockRunKind.Mapped)
            {
                _v.Device.Read(checked(((long)run.Physical * bs) + inBlock), slice);
            }
            else
            {
                slice.Clear();
            }

            done += bytes;
        }

        return total;
    }

    /// <summary>Maps <paramref name="lblk"/> through the extent tree or the block map; run length is 1..maxBlocks.</summary>
    public BlockRun Map(Ext4Inode inode, uint lblk, uint maxBlocks)
    {
        if (maxBlocks == 0)
        {
            maxBlocks = 1;
        }

        if (inode.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL))
        {
            throw new Ext4CorruptionException($"inode {inode.Number}: inline data has no blocks to map");
        }

        return inode.HasFlag(InodeLayout.EXT4_EXTENTS_FL)
            ? ExtentTree.Map(_v, inode, lblk, maxBlocks)
            : BlockMap.Map(_v, inode, lblk, maxBlocks);
    }

    /// <summary>
    /// The metadata block holding logical block <paramref name="lblk"/> of a directory or
    /// symlink (read through the cache), or null for a hole or unwritten block.
    /// </summary>
    public byte[]? ReadMetadataFileBlock(Ext4Inode inode, uint lblk)
    {
        var run = Map(inode, lblk, 1);
        return run.Kind == BlockRunKind.Mapped
            ? _v.ReadMetadataBlock(run.Physical, $"inode {inode.Number} logical block {lblk}")
            : null;
    }
}
