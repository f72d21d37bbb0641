using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>A <see cref="MemoryFuseDevice"/> whose connection negotiated iomap: BACKING_OPEN
/// hands out ids 1, 2, ... as the kernel does (§2.2 step 6) and every ioctl is recorded.</summary>
internal sealed class MemoryIomapFuseDevice : IFuseDevice, IFuseIomapDevice
{
    private readonly MemoryFuseDevice inner;
    private uint nextId;

    public MemoryIomapFuseDevice(IEnumerable<byte[]> requests) => this.inner = new MemoryFuseDevice(requests);

    public ConcurrentQueue<string> Ioctls { get; } = new();

    public byte[][] Replies => this.inner.Replies;

    public int Read(Span<byte> buffer) => this.inner.Read(buffer);

    public int Write(ReadOnlySpan<byte> reply) => this.inner.Write(reply);

    public Errno IomapBackingOpen(SafeHandle blockDevice, out uint backingId)
    {
        backingId = Interlocked.Increment(ref this.nextId);
        this.Ioctls.Enqueue($"BACKING_OPEN valid={!blockDevice.IsInvalid} -> {backingId}");
        return Errno.None;
    }

    public Errno IomapSetBlockSize(uint backingId, uint blockSize)
    {
        this.Ioctls.Enqueue($"SET_BLOCKSIZE {backingId} {blockSize}");
        return Errno.None;
    }
}
