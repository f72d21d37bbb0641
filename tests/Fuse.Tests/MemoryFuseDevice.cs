using System.Collections.Concurrent;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>An in-memory /dev/fuse: hands out queued requests one per Read (thread-safe, like
/// the kernel's one-request-per-reader rule), records every reply, and answers -ENODEV once the
/// queue is empty (the unmounted connection).</summary>
internal sealed class MemoryFuseDevice : IFuseDevice
{
    private readonly ConcurrentQueue<byte[]> requests;
    private readonly ConcurrentQueue<byte[]> replies = new();

    public MemoryFuseDevice(IEnumerable<byte[]> requests)
    {
        this.requests = new ConcurrentQueue<byte[]>(requests);
    }

    public byte[][] Replies => [.. this.replies];

    public int Read(Span<byte> buffer)
    {
        if (!this.requests.TryDequeue(out byte[]? request))
        {
            return -(int)Errno.ENODEV;
        }

        if (request.Length > buffer.Length)
        {
            return -(int)Errno.EINVAL;
        }

        request.CopyTo(buffer);
        return request.Length;
    }

    public int Write(ReadOnlySpan<byte> reply)
    {
        this.replies.Enqueue(reply.ToArray());
        return 0;
    }
}
