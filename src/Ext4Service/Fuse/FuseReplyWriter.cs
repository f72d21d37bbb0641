using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// One worker's reply buffer and the one-reply-per-request guard. Owned by a single worker
/// thread: <see cref="Begin"/> starts a request, then exactly one Send* call writes the reply
/// (fuse_out_header + payload) with a single write() on the device.
/// </summary>
internal sealed class FuseReplyWriter
{
    private readonly byte[] buffer;
    private readonly IFuseDevice device;
    private readonly ILogger logger;
    private ulong unique;

    /// <param name="bufferSize">Header plus the largest payload (at least max_write).</param>
    public FuseReplyWriter(int bufferSize, IFuseDevice device, ILogger logger)
    {
        // Not zeroed: every reply writes the bytes it sends (the buffer is reused across
        // requests, so nothing could rely on zeroes anyway).
        this.buffer = GC.AllocateUninitializedArray<byte>(bufferSize);
        this.device = device;
        this.logger = logger;
    }

    /// <summary>True once the current request has been answered.</summary>
    public bool Replied { get; private set; }

    /// <summary>The payload area after fuse_out_header; fill it, then call <see cref="Send(int)"/>.</summary>
    public Span<byte> Payload => this.buffer.AsSpan(FuseOutHeader.SizeOf);

    public void Begin(ulong requestUnique)
    {
        this.unique = requestUnique;
        this.Replied = false;
    }

    /// <summary>Sends the first <paramref name="payloadLength"/> bytes of <see cref="Payload"/>.</summary>
    public void Send(int payloadLength)
    {
        if ((uint)payloadLength > (uint)this.Payload.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength));
        }

        this.Write(0, payloadLength);
    }

    /// <summary>Sends <paramref name="value"/> as the whole payload.</summary>
    public void Send<T>(in T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(this.Payload, in value);
        this.Write(0, Unsafe.SizeOf<T>());
    }

    /// <summary>Sends <paramref name="first"/> followed directly by <paramref name="second"/>
    /// (CREATE and TMPFILE: fuse_entry_out + fuse_open_out).</summary>
    public void Send<T1, T2>(in T1 first, in T2 second)
        where T1 : unmanaged
        where T2 : unmanaged
    {
        int firstSize = Unsafe.SizeOf<T1>();
        MemoryMarshal.Write(this.Payload, in first);
        MemoryMarshal.Write(this.Payload[firstSize..], in second);
        this.Write(0, firstSize + Unsafe.SizeOf<T2>());
    }

    /// <summary>Sends the first <paramref name="length"/> bytes of <paramref name="value"/>
    /// (compat-size replies such as a short fuse_init_out).</summary>
    public void SendTruncated<T>(in T value, int length)
        where T : unmanaged
    {
        if ((uint)length > (uint)Unsafe.SizeOf<T>())
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        MemoryMarshal.Write(this.Payload, in value);
        this.Write(0, length);
    }

    /// <summary>Sends a header-only reply: 0 for success, otherwise -errno.</summary>
    public void SendError(Errno error) => this.Write(-(int)error, 0);

    /// <summary>Sends a header-only success reply.</summary>
    public void SendEmpty() => this.Write(0, 0);

    private void Write(int error, int payloadLength)
    {
        if (this.Replied)
        {
            throw new InvalidOperationException($"second reply to FUSE request {this.unique}");
        }

        this.Replied = true;
        var header = new FuseOutHeader
        {
            Len = (uint)(FuseOutHeader.SizeOf + payloadLength),
            Error = error,
            Unique = this.unique,
        };
        MemoryMarshal.Write(this.buffer, in header);
        int rc = this.device.Write(this.buffer.AsSpan(0, FuseOutHeader.SizeOf + payloadLength));

        // ENOENT: the request was interrupted and the kernel stopped waiting; nothing is lost.
        if (rc < 0 && rc != -(int)Errno.ENOENT)
        {
            FuseLog.ReplyFailed(this.logger, this.unique, (Errno)(-rc));
        }
    }
}
