using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// File-descriptor system calls: open, close, read, write, pread, pwrite, statx, ioctl.
/// Every wrapper reads errno immediately after the call and returns it as <see cref="Errno"/>
/// or throws <see cref="ErrnoException"/>; EINTR is retried where the call is restartable.
/// </summary>
public static unsafe partial class FileInterop
{
    public const int O_RDONLY = 0x0;
    public const int O_WRONLY = 0x1;
    public const int O_RDWR = 0x2;
    public const int O_NOCTTY = 0x100;
    public const int O_NONBLOCK = 0x800;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;
    public const int O_EXCL = 0x80;
    public const int O_CREAT = 0x40;
    public const int O_APPEND = 0x400;

    /// <summary>O_DIRECT (x86-64 value): I/O bypasses the page cache; buffer address, file offset
    /// and length must be multiples of the fd's DIO alignment (<see cref="DirectIoAlignment"/>).</summary>
    public const int O_DIRECT = 0x4000;

    /// <summary>The access-mode bits of the open flags (O_RDONLY, O_WRONLY, O_RDWR).</summary>
    public const int O_ACCMODE = 0x3;

    public const int AT_FDCWD = -100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;

    /// <summary>statx mask bit for the basic stat fields (STATX_BASIC_STATS).</summary>
    public const uint STATX_BASIC_STATS = 0x7FF;

    /// <summary>statx mask bit for stx_dio_mem_align and stx_dio_offset_align (STATX_DIOALIGN).</summary>
    public const uint STATX_DIOALIGN = 0x2000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open_(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int openat_(SafeFd dirfd, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int close_(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint read_(SafeFd fd, byte* buf, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint write_(SafeFd fd, byte* buf, nuint count);

    [LibraryImport("libc", EntryPoint = "pread64", SetLastError = true)]
    private static partial nint pread_(SafeFd fd, byte* buf, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite64", SetLastError = true)]
    private static partial nint pwrite_(SafeFd fd, byte* buf, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx_(int dirfd, string path, int flags, uint mask, StatxBuffer* buf);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int ioctl_(SafeFd fd, nuint request, void* arg);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int ioctl_value_(SafeFd fd, nuint request, nint arg);

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int dup_(SafeFd fd);

    /// <summary>open(2) with O_CLOEXEC always added.</summary>
    public static SafeFd Open(string path, int flags, int mode = 0)
    {
        int fd;
        do
        {
            fd = open_(path, flags | O_CLOEXEC, mode);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError($"open {path}");
        }

        return new SafeFd(fd);
    }

    /// <summary>openat(2) relative to <paramref name="dir"/>, O_CLOEXEC always added.</summary>
    public static SafeFd OpenAt(SafeFd dir, string path, int flags, int mode = 0)
    {
        int fd = openat_(dir, path, flags | O_CLOEXEC, mode);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError($"openat {path}");
        }

        return new SafeFd(fd);
    }

    /// <summary>close(2) for <see cref="SafeFd"/> only; never retried.</summary>
    internal static void CloseRaw(int fd) => close_(fd);

    /// <summary>read(2); returns bytes read (0 = end) or a negative errno.</summary>
    public static long Read(SafeFd fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = read_(fd, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return n;
                }

                int e = Marshal.GetLastPInvokeError();
                if (e != (int)Errno.EINTR)
                {
                    return -e;
                }
            }
        }
    }

    /// <summary>write(2) of the whole buffer in one call; returns bytes written or a negative errno.</summary>
    public static long Write(SafeFd fd, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = write_(fd, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return n;
                }

                int e = Marshal.GetLastPInvokeError();
                if (e != (int)Errno.EINTR)
                {
                    return -e;
                }
            }
        }
    }

    /// <summary>pread(2) until the buffer is full or end of file; returns the bytes read.</summary>
    public static int PReadFull(SafeFd fd, Span<byte> buffer, long offset)
    {
        int done = 0;
        fixed (byte* p = buffer)
        {
            while (done < buffer.Length)
            {
                nint n = pread_(fd, p + done, (nuint)(buffer.Length - done), offset + done);
                if (n < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e == (int)Errno.EINTR)
                    {
                        continue;
                    }

                    throw new ErrnoException("pread", (Errno)e);
                }

                if (n == 0)
                {
                    break;
                }

                done += (int)n;
            }
        }

        return done;
    }

    /// <summary>pwrite(2) of the whole buffer; throws on error or a zero-length write.</summary>
    public static void PWriteFull(SafeFd fd, ReadOnlySpan<byte> buffer, long offset)
    {
        int done = 0;
        fixed (byte* p = buffer)
        {
            while (done < buffer.Length)
            {
                nint n = pwrite_(fd, p + done, (nuint)(buffer.Length - done), offset + done);
                if (n < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e == (int)Errno.EINTR)
                    {
                        continue;
                    }

                    throw new ErrnoException("pwrite", (Errno)e);
                }

                if (n == 0)
                {
                    throw new ErrnoException("pwrite", Errno.EIO);
                }

                done += (int)n;
            }
        }
    }

    /// <summary>
    /// One pwrite(2) call (EINTR retried): returns the bytes written, which may be fewer than
    /// asked (an O_DIRECT write to a block device answers 0 when the kernel could not invalidate
    /// the page cache over the range, blkdev_direct_write), or a negative errno. The caller
    /// decides what a short write means.
    /// </summary>
    public static long PWrite(SafeFd fd, ReadOnlySpan<byte> buffer, long offset)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = pwrite_(fd, p, (nuint)buffer.Length, offset);
                if (n >= 0)
                {
                    return n;
                }

                int e = Marshal.GetLastPInvokeError();
                if (e != (int)Errno.EINTR)
                {
                    return -e;
                }
            }
        }
    }

    /// <summary>
    /// statx STATX_DIOALIGN on an open fd: (stx_dio_mem_align, stx_dio_offset_align) in bytes, or
    /// null when the kernel or the file system does not report them (mask bit absent, or 0:
    /// O_DIRECT unsupported on this file).
    /// </summary>
    public static (uint MemAlign, uint OffsetAlign)? DirectIoAlignment(SafeFd fd)
    {
        StatxBuffer buf = default;
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            if (statx_(fd.Fd, string.Empty, AT_EMPTY_PATH, STATX_DIOALIGN, &buf) != 0)
            {
                throw ErrnoException.FromLastError("statx STATX_DIOALIGN");
            }
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }

        if ((buf.stx_mask & STATX_DIOALIGN) == 0 || buf.stx_dio_mem_align == 0 || buf.stx_dio_offset_align == 0)
        {
            return null;
        }

        return (buf.stx_dio_mem_align, buf.stx_dio_offset_align);
    }

    /// <summary>statx(2) on an open fd (AT_EMPTY_PATH): the type check never follows a path.</summary>
    public static StatxResult FStat(SafeFd fd)
    {
        StatxBuffer buf = default;
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            if (statx_(fd.Fd, string.Empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &buf) != 0)
            {
                throw ErrnoException.FromLastError("statx");
            }
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }

        return new StatxResult(buf);
    }

    /// <summary>statx(2) on a path, not following a final symlink.</summary>
    public static StatxResult LStat(string path)
    {
        StatxBuffer buf = default;
        if (statx_(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &buf) != 0)
        {
            throw ErrnoException.FromLastError($"statx {path}");
        }

        return new StatxResult(buf);
    }

    /// <summary>ioctl(2) with a pointer argument; returns the result or a negative errno.</summary>
    public static int Ioctl(SafeFd fd, ulong request, void* arg)
    {
        int r = ioctl_(fd, (nuint)request, arg);
        return r < 0 ? -Marshal.GetLastPInvokeError() : r;
    }

    /// <summary>ioctl(2) with an integer argument; returns the result or a negative errno.</summary>
    public static int IoctlValue(SafeFd fd, ulong request, long arg)
    {
        int r = ioctl_value_(fd, (nuint)request, (nint)arg);
        return r < 0 ? -Marshal.GetLastPInvokeError() : r;
    }

    /// <summary>
    /// dup(2): a copy of <paramref name="fd"/> WITHOUT close-on-exec, the one sanctioned
    /// exception to O_CLOEXEC, for handing an fd to a child by number (e.g. `mount -o fd=N`).
    /// Every child spawned while it is open inherits it: dispose it as soon as the child has started.
    /// </summary>
    public static SafeFd DupInheritable(SafeFd fd)
    {
        int copy = dup_(fd);
        if (copy < 0)
        {
            throw ErrnoException.FromLastError("dup");
        }

        return new SafeFd(copy);
    }
}
