namespace Safemount.Shared.Interop;

/// <summary>Byte size and read-only state of a block device or regular file fd.</summary>
public static unsafe partial class FileInterop
{
    /// <summary>
    /// The size in bytes of the object behind <paramref name="fd"/>: BLKGETSIZE64 for a block
    /// device, stx_size for a regular file. Anything else is ENOTBLK.
    /// </summary>
    public static ulong GetByteSize(SafeFd fd)
    {
        StatxResult st = FStat(fd);
        if (st.IsRegular)
        {
            return st.Size;
        }

        if (!st.IsBlockDevice)
        {
            throw new ErrnoException("size of fd", Errno.ENOTBLK);
        }

        ulong size = 0;
        int r = Ioctl(fd, IoctlNumbers.BLKGETSIZE64, &size);
        if (r < 0)
        {
            throw new ErrnoException("BLKGETSIZE64", (Errno)(-r));
        }

        return size;
    }

    /// <summary>BLKROGET: true when the block device is read-only (write-protected or ro loop).</summary>
    public static bool IsBlockDeviceReadOnly(SafeFd fd)
    {
        int ro = 0;
        int r = Ioctl(fd, IoctlNumbers.BLKROGET, &ro);
        if (r < 0)
        {
            throw new ErrnoException("BLKROGET", (Errno)(-r));
        }

        return ro != 0;
    }
}
