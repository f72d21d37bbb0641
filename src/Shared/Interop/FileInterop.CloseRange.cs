using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>close_range(2), F_GETFD and close(2) on raw descriptor numbers (fd-table sweeps, not owned fds).</summary>
public static partial class FileInterop
{
    [LibraryImport("libc", EntryPoint = "close_range", SetLastError = true)]
    private static partial int close_range_(uint first, uint last, int flags);

    /// <summary>Closes every descriptor in [first, last] (fs/file.c __close_range); never retried.</summary>
    public static void CloseRange(uint first, uint last)
    {
        if (close_range_(first, last, 0) != 0)
        {
            throw ErrnoException.FromLastError($"close_range({first}, {last})");
        }
    }

    /// <summary>F_GETFD of a raw descriptor number: its FD_* flags, or null when no such descriptor is open (EBADF).</summary>
    public static int? GetDescriptorFlags(int fd)
    {
        using SafeFd borrowed = new(fd, ownsHandle: false);
        int flags = fcntl_(borrowed, F_GETFD, 0);
        if (flags >= 0)
        {
            return flags;
        }

        Errno e = (Errno)Marshal.GetLastPInvokeError();
        if (e == Errno.EBADF)
        {
            return null;
        }

        throw new ErrnoException($"fcntl({fd}, F_GETFD)", e);
    }

    /// <summary>close(2) of a descriptor no SafeFd owns (one found by scanning the fd table); never retried.</summary>
    public static void CloseUnowned(int fd) => close_(fd);
}
