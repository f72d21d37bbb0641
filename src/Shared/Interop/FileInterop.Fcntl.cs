using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>fcntl(2) for descriptor flags (inherited fds, e.g. the socket-activation fd 3).</summary>
public static partial class FileInterop
{
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_GETFL = 3;
    public const int FD_CLOEXEC = 1;

    /// <summary>F_DUPFD_CLOEXEC: duplicate to the lowest free fd ≥ arg, close-on-exec set.</summary>
    public const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int fcntl_(SafeFd fd, int cmd, int arg);

    /// <summary>Sets FD_CLOEXEC on an fd that was inherited without it.</summary>
    public static void SetCloseOnExec(SafeFd fd)
    {
        int flags = fcntl_(fd, F_GETFD, 0);
        if (flags < 0 || fcntl_(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        {
            throw ErrnoException.FromLastError("fcntl FD_CLOEXEC");
        }
    }

    /// <summary>fcntl(F_GETFL): the file status flags and access mode of the open file description.</summary>
    public static int GetStatusFlags(SafeFd fd)
    {
        int flags = fcntl_(fd, F_GETFL, 0);
        if (flags < 0)
        {
            throw ErrnoException.FromLastError("fcntl F_GETFL");
        }

        return flags;
    }

    /// <summary>
    /// fcntl(F_DUPFD_CLOEXEC): a close-on-exec copy numbered at least <paramref name="lowest"/>, so
    /// a child's dup2 onto a small fd number (0..3) never overwrites another source fd.
    /// </summary>
    public static SafeFd DupAbove(SafeFd fd, int lowest)
    {
        SafeFd handle = new();
        int copy = fcntl_(fd, F_DUPFD_CLOEXEC, lowest);
        if (copy < 0)
        {
            Errno e = (Errno)Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new ErrnoException("fcntl F_DUPFD_CLOEXEC", e);
        }

        Marshal.InitHandle(handle, copy);
        return handle;
    }
}
