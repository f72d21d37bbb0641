using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// Loop devices (linux/loop.h): LOOP_CTL_GET_FREE on /dev/loop-control, LOOP_CONFIGURE,
/// LOOP_CLR_FD.
/// </summary>
public static unsafe class LoopInterop
{
    public const ulong LOOP_CLR_FD = 0x4C01;
    public const ulong LOOP_GET_STATUS64 = 0x4C05;
    public const ulong LOOP_CONFIGURE = 0x4C0A;
    public const ulong LOOP_CTL_GET_FREE = 0x4C82;

    public const uint LO_FLAGS_READ_ONLY = 1;
    public const uint LO_FLAGS_AUTOCLEAR = 4;
    public const uint LO_FLAGS_PARTSCAN = 8;
    public const uint LO_FLAGS_DIRECT_IO = 16;

    /// <summary>How often GET_FREE + CONFIGURE is retried when another process wins the race (EBUSY).</summary>
    public const int MaxAttachAttempts = 16;

    /// <summary>LOOP_CTL_GET_FREE: the number of a free loop device (allocating one if needed).</summary>
    public static int GetFree()
    {
        using SafeFd control = FileInterop.Open("/dev/loop-control", FileInterop.O_RDWR);
        int r = FileInterop.IoctlValue(control, LOOP_CTL_GET_FREE, 0);
        if (r < 0)
        {
            throw new ErrnoException("LOOP_CTL_GET_FREE", (Errno)(-r));
        }

        return r;
    }

    /// <summary>
    /// Attaches <paramref name="backing"/> to a free loop device with LOOP_CONFIGURE
    /// (LO_FLAGS_AUTOCLEAR, plus LO_FLAGS_READ_ONLY when <paramref name="readOnly"/>).
    /// Returns the open loop device (opened O_RDONLY for read-only, else O_RDWR) and its path.
    /// With autoclear the device detaches itself when its last opener closes it.
    /// </summary>
    public static (SafeFd Device, string Path) Attach(SafeFd backing, bool readOnly)
    {
        for (int attempt = 0; ; attempt++)
        {
            int n = GetFree();
            string path = $"/dev/loop{n}";
            SafeFd dev = FileInterop.Open(path, readOnly ? FileInterop.O_RDONLY : FileInterop.O_RDWR);
            loop_config cfg = default;
            cfg.fd = (uint)backing.Fd;
            cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (readOnly ? LO_FLAGS_READ_ONLY : 0);
            int r;
            bool added = false;
            try
            {
                backing.DangerousAddRef(ref added);
                r = FileInterop.Ioctl(dev, LOOP_CONFIGURE, &cfg);
            }
            finally
            {
                if (added)
                {
                    backing.DangerousRelease();
                }
            }

            if (r == 0)
            {
                return (dev, path);
            }

            dev.Dispose();
            if (r != -(int)Errno.EBUSY || attempt + 1 >= MaxAttachAttempts)
            {
                throw new ErrnoException($"LOOP_CONFIGURE {path}", (Errno)(-r));
            }
        }
    }

    /// <summary>LOOP_CLR_FD; returns 0 or the errno.</summary>
    public static Errno Clear(SafeFd loopDevice)
    {
        int r = FileInterop.IoctlValue(loopDevice, LOOP_CLR_FD, 0);
        return r < 0 ? (Errno)(-r) : Errno.None;
    }
}
