using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Safemount.Ext4;
using Safemount.Ext4.Storage;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// The engine's device for a read-write mount that was handed a second, O_DIRECT fd of the
/// device (protocol DIRECT_DEVICE). Reads, metadata and journal writes, flushes and every
/// unaligned piece go through the buffered <see cref="FileBlockDevice"/>; the aligned middle of
/// a large file data write (<see cref="WriteData"/>, at least <see cref="DirectMinBytes"/>) goes
/// through the O_DIRECT fd, so the kernel moves
/// it from the service's buffer into bios without copying it into the block device's page
/// cache (the cost behind bench/RESULTS.md "Sequential write").
/// </summary>
/// <remarks>
/// Coherency of the two fds is the kernel's: a direct write to a block device first writes back
/// and drops the page-cache range it covers and drops it again afterwards (block/fops.c
/// blkdev_direct_write, mm/filemap.c kiocb_invalidate_pages); when it cannot drop a page it
/// writes nothing and answers 0, and this class writes that range buffered instead. Data and
/// metadata must not share a page-cache page, or a buffered metadata write racing the direct
/// write could keep a stale copy of the data block: so direct I/O is armed (<see cref="Arm"/>)
/// only once the file system's block size is known to be at least the page size.
/// Durability: pwrite on the O_DIRECT fd returns after the device completed the bios (into its
/// volatile cache); <see cref="Flush"/> is fsync of the buffered fd, which for a block device
/// also issues a cache flush to the device (blkdev_fsync → blkdev_issue_flush), so it covers
/// both kinds of write, as the journal's ordered mode requires.
/// A direct write that fails with EINVAL (an alignment the kernel refuses) turns direct I/O off
/// for the rest of the mount (reported once through the constructor's callback) and is redone
/// buffered. Thread-safe for disjoint ranges, like the buffered device.
/// </remarks>
internal sealed class DirectDataBlockDevice : IWritableBlockDevice, IDisposable
{
    /// <summary>Bytes per bounce buffer and so per direct pwrite: one FUSE_WRITE at max_pages 256.</summary>
    internal const int BounceBytes = 1 << 20;

    /// <summary>
    /// The smallest aligned middle sent direct. A direct write is synchronous device I/O (through
    /// a loop device, a write to its backing file) and cannot be merged with its neighbours
    /// later; below this size that latency costs more than the page-cache copy it saves (bench:
    /// 4 KiB random writes lost a third of their IOPS when every write went direct), so small
    /// writes stay buffered and are merged by writeback at the next flush.
    /// </summary>
    internal const int DirectMinBytes = 128 << 10;

    /// <summary>The alignment assumed when statx does not report STATX_DIOALIGN: a page, which
    /// every logical block size up to 4 KiB divides.</summary>
    internal const int FallbackAlignment = 4096;

    private readonly FileBlockDevice _buffered;
    private readonly SafeFd _direct;
    private readonly Action<string> _disabled;

    /// <summary>Idle bounce buffers; at most one per thread writing at a time, so bounded by the
    /// FUSE worker count. Each is a pinned array whose <see cref="Bounce.Start"/> is aligned.</summary>
    private readonly ConcurrentBag<Bounce> _idle = [];

    /// <summary>0 until <see cref="Arm"/>, 1 while direct writes are used, 2 after they were turned off.</summary>
    private int _state;
    private long _directBytes;
    private long _bufferedDataBytes;

    /// <param name="buffered">The buffered device; owned by this object from now on.</param>
    /// <param name="direct">The O_DIRECT fd of the same device; borrowed (the mount request owns it).</param>
    /// <param name="alignment">Power of two that buffer address, offset and length of a direct write must be multiples of.</param>
    /// <param name="disabled">Called once, with the reason, when a refused direct write turns direct I/O off.</param>
    public DirectDataBlockDevice(FileBlockDevice buffered, SafeFd direct, int alignment, Action<string> disabled)
    {
        ArgumentNullException.ThrowIfNull(buffered);
        ArgumentNullException.ThrowIfNull(direct);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0 || alignment > BounceBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "a power of two up to the bounce buffer size");
        }

        _buffered = buffered;
        _direct = direct;
        Alignment = alignment;
        _disabled = disabled;
    }

    /// <summary>Direct-write alignment in bytes: max(stx_dio_mem_align, stx_dio_offset_align), or <see cref="FallbackAlignment"/>.</summary>
    public int Alignment { get; }

    /// <summary>True while aligned file data goes through the O_DIRECT fd.</summary>
    public bool DirectActive => Volatile.Read(ref _state) == 1;

    /// <summary>File data bytes written through the O_DIRECT fd so far.</summary>
    public long DirectBytes => Interlocked.Read(ref _directBytes);

    /// <summary>File data bytes written through the page cache so far (unaligned pieces, fallbacks, before arming).</summary>
    public long BufferedDataBytes => Interlocked.Read(ref _bufferedDataBytes);

    public long Length => _buffered.Length;

    public bool CanWrite => _buffered.CanWrite;

    /// <summary>
    /// The alignment for a direct-I/O fd: statx STATX_DIOALIGN (the larger of the memory and
    /// offset alignments), else <see cref="FallbackAlignment"/>.
    /// </summary>
    public static int AlignmentOf(SafeFd direct)
    {
        (uint MemAlign, uint OffsetAlign)? a = FileInterop.DirectIoAlignment(direct);
        if (a is not { } v)
        {
            return FallbackAlignment;
        }

        uint align = Math.Max(v.MemAlign, v.OffsetAlign);
        return align is > 0 and <= BounceBytes && (align & (align - 1)) == 0 ? (int)align : FallbackAlignment;
    }

    /// <summary>Starts sending aligned file data through the O_DIRECT fd (call once the block size is checked).</summary>
    public void Arm() => Interlocked.CompareExchange(ref _state, 1, 0);

    public void Read(long offset, Span<byte> destination) => _buffered.Read(offset, destination);

    public void Write(long offset, ReadOnlySpan<byte> source) => _buffered.Write(offset, source);

    public void Flush() => _buffered.Flush();

    /// <summary>
    /// Writes whose aligned middle is shorter than <see cref="DirectMinBytes"/> go buffered whole.
    /// Otherwise unaligned head and tail buffered, the aligned middle direct in <see cref="BounceBytes"/>
    /// pieces copied into an aligned bounce buffer; a piece the kernel writes short (0: page-cache
    /// invalidation failed) is finished buffered; EINVAL turns direct I/O off and the rest goes
    /// buffered. Other errors are <see cref="Ext4IOException"/>, as in <see cref="FileBlockDevice"/>.
    /// </summary>
    public void WriteData(long offset, ReadOnlySpan<byte> source)
    {
        long end = offset + source.Length;
        long first = (offset + Alignment - 1) & ~(long)(Alignment - 1);
        long last = end & ~(long)(Alignment - 1);
        if (!DirectActive || offset < 0 || offset > Length || source.Length > Length - offset || last - first < DirectMinBytes)
        {
            // Out-of-range writes get the buffered device's error.
            BufferedData(offset, source);
            return;
        }

        BufferedData(offset, source[..(int)(first - offset)]);
        Bounce bounce = _idle.TryTake(out Bounce? b) ? b : new Bounce(Alignment);
        try
        {
            long pos = first;
            while (pos < last)
            {
                int n = (int)Math.Min(last - pos, BounceBytes);
                ReadOnlySpan<byte> piece = source.Slice((int)(pos - offset), n);
                int done = DirectPiece(bounce, pos, piece);
                if (done < n)
                {
                    BufferedData(pos + done, piece[done..]);
                }

                pos += n;
            }
        }
        finally
        {
            _idle.Add(bounce);
        }

        BufferedData(last, source[(int)(last - offset)..]);
    }

    public void Dispose() => _buffered.Dispose();

    /// <summary>One direct pwrite of <paramref name="piece"/> at <paramref name="pos"/> (both aligned); returns the bytes it wrote.</summary>
    private int DirectPiece(Bounce bounce, long pos, ReadOnlySpan<byte> piece)
    {
        if (!DirectActive)
        {
            return 0;
        }

        Span<byte> buffer = bounce.Span(piece.Length);
        piece.CopyTo(buffer);
        long n = FileInterop.PWrite(_direct, buffer, pos);
        if (n == -(long)Errno.EINVAL)
        {
            if (Interlocked.CompareExchange(ref _state, 2, 1) == 1)
            {
                _disabled($"a direct write of {piece.Length} bytes at offset {pos} (alignment {Alignment}) failed with EINVAL; file data goes through the page cache from now on");
            }

            return 0;
        }

        if (n < 0)
        {
            throw new Ext4IOException($"I/O error writing {piece.Length} bytes at offset {pos} (direct I/O): {ErrnoException.Describe((Errno)(-n))}");
        }

        // Short (0 when the kernel could not drop the page-cache range): the caller writes the
        // rest buffered, which is correct at any offset.
        Interlocked.Add(ref _directBytes, n);
        return (int)n;
    }

    private void BufferedData(long offset, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        _buffered.Write(offset, data);
        Interlocked.Add(ref _bufferedDataBytes, data.Length);
    }

    /// <summary>A pinned array (pinned object heap: never moves) with an aligned window of <see cref="BounceBytes"/>.</summary>
    private sealed class Bounce
    {
        private readonly byte[] _array;

        public Bounce(int alignment)
        {
            _array = GC.AllocateUninitializedArray<byte>(BounceBytes + alignment, pinned: true);
            long address = Marshal.UnsafeAddrOfPinnedArrayElement(_array, 0).ToInt64();
            Start = (int)((alignment - (address & (alignment - 1))) & (alignment - 1));
        }

        /// <summary>Offset of the first aligned byte in the array.</summary>
        public int Start { get; }

        public Span<byte> Span(int length) => _array.AsSpan(Start, length);
    }
}
