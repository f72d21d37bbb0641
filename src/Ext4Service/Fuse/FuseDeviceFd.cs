using System.Runtime.InteropServices;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>read(2)/write(2) on an open /dev/fuse descriptor. Does not own the fd's lifetime
/// beyond what the caller's <see cref="SafeFd"/> does.</summary>
public sealed class FuseDeviceFd : IFuseDevice, IFuseIomapDevice
{
    private readonly SafeFd fd;

    public FuseDeviceFd(SafeFd fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        this.fd = fd;
    }

    public int Read(Span<byte> buffer)
    {
        long n = FileInterop.Read(this.fd, buffer);
        return (int)n;
    }

    public int Write(ReadOnlySpan<byte> reply)
    {
        long n = FileInterop.Write(this.fd, reply);
        if (n < 0)
        {
            return (int)n;
        }

        // /dev/fuse consumes a reply in one write or rejects it; a short write is a broken device.
        return n == reply.Length ? 0 : -(int)Errno.EIO;
    }

    public Errno IomapBackingOpen(SafeHandle blockDevice, out uint backingId) =>
        FuseIomapInterop.BackingOpenIomap(this.fd, blockDevice, out backingId);

    public Errno IomapSetBlockSize(uint backingId, uint blockSize) =>
        FuseIomapInterop.SetBlockSize(this.fd, backingId, blockSize);
}
