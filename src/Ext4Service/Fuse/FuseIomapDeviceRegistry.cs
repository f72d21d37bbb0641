using System.Runtime.InteropServices;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// Wraps the connection's <see cref="IFuseIomapDevice"/> for the duration of the session and
/// remembers every backing id a BACKING_OPEN returned, so the session can refuse a mapping that
/// names a device the kernel does not know (it would answer EFSCORRUPTED, FUSE-PROTOCOL.md §2.7).
/// Ids are never released: BACKING_CLOSE of an iomap device is EBUSY until unmount (§2.2 step 6).
/// Thread safety: all members may be called concurrently.
/// </summary>
internal sealed class FuseIomapDeviceRegistry : IFuseIomapDevice
{
    private readonly IFuseIomapDevice inner;

    /// <summary>Guards <see cref="ids"/>.</summary>
    private readonly Lock idsLock = new();
    private readonly HashSet<uint> ids = [];

    public FuseIomapDeviceRegistry(IFuseIomapDevice inner) => this.inner = inner;

    /// <summary>True when <paramref name="backingId"/> came from a successful BACKING_OPEN.</summary>
    public bool IsRegistered(uint backingId)
    {
        lock (this.idsLock)
        {
            return this.ids.Contains(backingId);
        }
    }

    public Errno IomapBackingOpen(SafeHandle blockDevice, out uint backingId)
    {
        Errno rc = this.inner.IomapBackingOpen(blockDevice, out backingId);
        if (rc == Errno.None)
        {
            lock (this.idsLock)
            {
                this.ids.Add(backingId);
            }
        }

        return rc;
    }

    public Errno IomapSetBlockSize(uint backingId, uint blockSize) => this.inner.IomapSetBlockSize(backingId, blockSize);
}
