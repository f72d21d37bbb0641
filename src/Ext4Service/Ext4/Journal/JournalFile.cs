using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Journal;

/// <summary>
/// The journal inode's blocks: journal block n (0 = journal superblock) mapped to a device
/// offset through the inode's extent tree or block map, resolved once into runs so that the
/// recovery passes read the log without walking the tree per block. Every run lies inside the
/// file system; a hole, an unwritten extent or a run outside the file system is corruption
/// (the kernel's jbd2_journal_bmap fails the same way).
/// </summary>
internal sealed class JournalFile
{
    private readonly IBlockDevice _device;
    private readonly int _blockSize;
    private readonly List<(uint Logical, ulong Physical, uint Length)> _runs = new(); // sorted by Logical, contiguous from 0
    private readonly (uint Logical, ulong Physical, uint Length)[] _byPhysical;        // the same runs sorted by Physical
    private readonly uint _maxRunLength;                                               // longest run, bounds the look-back

    /// <summary>Maps journal blocks [0, <paramref name="blocks"/>) of inode <paramref name="inode"/>.</summary>
    public JournalFile(Ext4Volume volume, Ext4Inode inode, uint blocks)
    {
        _device = volume.Device;
        _blockSize = (int)volume.BlockSize;
        uint lblk = 0;
        while (lblk < blocks)
        {
            // Each Map call advances by at least one block, so this loop runs at most `blocks` times.
            var run = volume.FileData.Map(inode, lblk, blocks - lblk);
            if (run.Kind != BlockRunKind.Mapped)
            {
                throw new Ext4MountException(
                    $"journal inode {inode.Number} has a {(run.Kind == BlockRunKind.Hole ? "hole" : "unwritten extent")} at block {lblk}");
            }

            uint length = Math.Min(run.Length, blocks - lblk);
            volume.CheckBlockRange(run.Physical, length, $"journal inode {inode.Number} block {lblk}");
            _runs.Add((lblk, run.Physical, length));
            _maxRunLength = Math.Max(_maxRunLength, length);
            lblk += length;
        }

        Blocks = blocks;
        _byPhysical = [.. _runs.OrderBy(r => r.Physical)];
    }

    /// <summary>True when file-system block <paramref name="physical"/> holds a journal block.</summary>
    public bool ContainsPhysical(ulong physical)
    {
        // A hostile inode may map overlapping runs: find the last run starting at or below the
        // block, then look back while a run that long could still reach it.
        int lo = 0, hi = _byPhysical.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_byPhysical[mid].Physical <= physical)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        for (int i = found; i >= 0; i--)
        {
            var r = _byPhysical[i];
            if (physical - r.Physical < r.Length)
            {
                return true;
            }

            if (physical - r.Physical >= _maxRunLength)
            {
                break;
            }
        }

        return false;
    }

    /// <summary>Number of mapped journal blocks.</summary>
    public uint Blocks { get; }

    /// <summary>File-system block that holds journal block <paramref name="journalBlock"/>.</summary>
    public ulong Physical(uint journalBlock)
    {
        if (journalBlock >= Blocks)
        {
            throw new Ext4CorruptionException($"journal block {journalBlock} is beyond the journal ({Blocks} blocks)");
        }

        int lo = 0, hi = _runs.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_runs[mid].Logical <= journalBlock)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        var r = _runs[lo];
        return r.Physical + (journalBlock - r.Logical);
    }

    /// <summary>Reads journal block <paramref name="journalBlock"/> into <paramref name="destination"/> (one block).</summary>
    public void Read(uint journalBlock, Span<byte> destination)
    {
        _device.Read(checked((long)Physical(journalBlock) * _blockSize), destination[.._blockSize]);
    }
}
