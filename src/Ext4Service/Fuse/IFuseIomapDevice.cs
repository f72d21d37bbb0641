using System.Runtime.InteropServices;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// The iomap ioctls of a /dev/fuse connection that a file system needs while answering
/// FUSE_IOMAP_CONFIG (FUSE-PROTOCOL.md §2.2 step 6, §2.6). Implemented by the real device; the
/// session hands it to <see cref="IFuseIomapFileSystem.IomapConfig"/>.
/// </summary>
public interface IFuseIomapDevice
{
    /// <summary>FUSE_DEV_IOC_BACKING_OPEN with flags FUSE_BACKING_TYPE_IOMAP: registers
    /// <paramref name="blockDevice"/> and returns its backing id (1..1024), the dev cookie of
    /// every mapping on it. ENODEV: not a block device; EPERM: iomap not negotiated.</summary>
    Errno IomapBackingOpen(SafeHandle blockDevice, out uint backingId);

    /// <summary>FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE (v7): set_blocksize() of a registered device,
    /// so its page cache cannot alias file blocks. ENOTTY on kernels before v7.</summary>
    Errno IomapSetBlockSize(uint backingId, uint blockSize);
}
