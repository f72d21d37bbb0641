using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>fcntl(2) for descriptor flags (inherited fds, e.g. the socket-activation fd 3).</summary>
public static partial class FileInterop
{
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;

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
}
