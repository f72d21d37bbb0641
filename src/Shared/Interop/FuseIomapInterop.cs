using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// The fuse-iomap v7 ioctls on a /dev/fuse fd (FUSE-PROTOCOL.md §2.2, §2.6). Each returns the
/// errno of the call (None on success) instead of throwing: ENOTTY is the expected answer of
/// every one of them on a mainline kernel.
/// </summary>
public static unsafe class FuseIomapInterop
{
    /// <summary>FUSE_DEV_IOC_IOMAP_SUPPORT: <paramref name="flags"/> gets FUSE_IOMAP_SUPPORT_*.</summary>
    public static Errno QuerySupport(SafeFd fuse, out ulong flags)
    {
        fuse_iomap_support support = default;
        int r = FileInterop.Ioctl(fuse, IoctlNumbers.FUSE_DEV_IOC_IOMAP_SUPPORT, &support);
        flags = r < 0 ? 0 : support.flags;
        return r < 0 ? (Errno)(-r) : Errno.None;
    }

    /// <summary>FUSE_DEV_IOC_ADD_IOMAP: before mount(2), so the kernel offers FUSE_IOMAP in INIT.</summary>
    public static Errno AddIomap(SafeFd fuse)
    {
        int r = FileInterop.IoctlValue(fuse, IoctlNumbers.FUSE_DEV_IOC_ADD_IOMAP, 0);
        return r < 0 ? (Errno)(-r) : Errno.None;
    }

    /// <summary>FUSE_DEV_IOC_BACKING_OPEN with FUSE_BACKING_TYPE_IOMAP: registers
    /// <paramref name="blockDevice"/>; <paramref name="backingId"/> is the ioctl's return value.</summary>
    public static Errno BackingOpenIomap(SafeFd fuse, SafeHandle blockDevice, out uint backingId)
    {
        backingId = 0;
        bool added = false;
        try
        {
            blockDevice.DangerousAddRef(ref added);
            var map = new fuse_backing_map
            {
                fd = checked((int)blockDevice.DangerousGetHandle()),
                flags = fuse_backing_map.FUSE_BACKING_TYPE_IOMAP,
                padding = 0,
            };
            int r = FileInterop.Ioctl(fuse, IoctlNumbers.FUSE_DEV_IOC_BACKING_OPEN, &map);
            if (r < 0)
            {
                return (Errno)(-r);
            }

            backingId = (uint)r;
            return Errno.None;
        }
        finally
        {
            if (added)
            {
                blockDevice.DangerousRelease();
            }
        }
    }

    /// <summary>FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE: set_blocksize() of registered device <paramref name="backingId"/>.</summary>
    public static Errno SetBlockSize(SafeFd fuse, uint backingId, uint blockSize)
    {
        var info = new fuse_iomap_backing_info { backing_id = backingId, blocksize = blockSize };
        int r = FileInterop.Ioctl(fuse, IoctlNumbers.FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE, &info);
        return r < 0 ? (Errno)(-r) : Errno.None;
    }
}
