namespace Safemount.Fuse;

/// <summary>
/// The kernel end of one FUSE connection. Implementations must allow concurrent
/// <see cref="Read"/> calls from several worker threads (each request goes to one reader) and
/// concurrent <see cref="Write"/> calls (one reply per write).
/// </summary>
public interface IFuseDevice
{
    /// <summary>Reads exactly one request into <paramref name="buffer"/>; returns its length in
    /// bytes, or a negative errno (-ENODEV once the connection is gone).</summary>
    int Read(Span<byte> buffer);

    /// <summary>Writes one complete reply or notification; returns 0 or a negative errno
    /// (-ENOENT when the request was interrupted and the kernel no longer waits for it).</summary>
    int Write(ReadOnlySpan<byte> reply);
}
