using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// The new mount API (fsopen(2), fsconfig(2), fsmount(2), move_mount(2); glibc 2.36 wrappers)
/// and the classic mount(2)/umount2(2). Constants from linux/mount.h.
/// </summary>
public static unsafe partial class MountInterop
{
    public const uint FSOPEN_CLOEXEC = 0x1;
    public const uint FSMOUNT_CLOEXEC = 0x1;

    // fsconfig commands (enum fsconfig_command).
    public const uint FSCONFIG_SET_FLAG = 0;
    public const uint FSCONFIG_SET_STRING = 1;
    public const uint FSCONFIG_SET_FD = 5;
    public const uint FSCONFIG_CMD_CREATE = 6;

    // fsmount attr_flags (MOUNT_ATTR_*).
    public const uint MOUNT_ATTR_RDONLY = 0x1;
    public const uint MOUNT_ATTR_NOSUID = 0x2;
    public const uint MOUNT_ATTR_NODEV = 0x4;
    public const uint MOUNT_ATTR_NOEXEC = 0x8;
    public const uint MOUNT_ATTR__ATIME = 0x70;
    public const uint MOUNT_ATTR_RELATIME = 0x0;
    public const uint MOUNT_ATTR_NOATIME = 0x10;
    public const uint MOUNT_ATTR_STRICTATIME = 0x20;
    public const uint MOUNT_ATTR_NODIRATIME = 0x80;

    // move_mount flags.
    public const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    public const uint MOVE_MOUNT_T_EMPTY_PATH = 0x40;

    // mount(2) flags (MS_*).
    public const ulong MS_RDONLY = 0x1;
    public const ulong MS_NOSUID = 0x2;
    public const ulong MS_NODEV = 0x4;
    public const ulong MS_NOEXEC = 0x8;
    public const ulong MS_NOATIME = 0x400;
    public const ulong MS_NODIRATIME = 0x800;
    public const ulong MS_RELATIME = 0x200000;
    public const ulong MS_STRICTATIME = 0x1000000;

    // umount2 flags.
    public const int MNT_FORCE = 0x1;
    public const int MNT_DETACH = 0x2;

    [LibraryImport("libc", EntryPoint = "fsopen", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int fsopen_(string fsName, uint flags);

    [LibraryImport("libc", EntryPoint = "fsconfig", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int fsconfig_(SafeFd fsfd, uint cmd, string? key, string? value, int aux);

    [LibraryImport("libc", EntryPoint = "fsmount", SetLastError = true)]
    private static partial int fsmount_(SafeFd fsfd, uint flags, uint attrFlags);

    [LibraryImport("libc", EntryPoint = "move_mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int move_mount_(SafeFd fromDirfd, string fromPath, SafeFd toDirfd, string toPath, uint flags);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mount_(string source, string target, string fsType, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int umount2_(string target, int flags);

    /// <summary>fsopen(2) with FSOPEN_CLOEXEC. ENOSYS (or a libc without the wrapper) means "use mount(2)".</summary>
    public static SafeFd FsOpen(string fsName)
    {
        SafeFd handle = new();
        int fd;
        try
        {
            fd = fsopen_(fsName, FSOPEN_CLOEXEC);
        }
        catch (EntryPointNotFoundException)
        {
            handle.Dispose();
            throw new ErrnoException($"fsopen {fsName}", Errno.ENOSYS);
        }

        if (fd < 0)
        {
            Errno e = (Errno)Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new ErrnoException($"fsopen {fsName}", e);
        }

        Marshal.InitHandle(handle, fd);
        return handle;
    }

    /// <summary>fsconfig(FSCONFIG_SET_STRING, key, value).</summary>
    public static void FsConfigString(SafeFd fsfd, string key, string value)
    {
        if (fsconfig_(fsfd, FSCONFIG_SET_STRING, key, value, 0) != 0)
        {
            throw ErrnoException.FromLastError($"fsconfig {key}={value}");
        }
    }

    /// <summary>fsconfig(FSCONFIG_SET_FLAG, key).</summary>
    public static void FsConfigFlag(SafeFd fsfd, string key)
    {
        if (fsconfig_(fsfd, FSCONFIG_SET_FLAG, key, null, 0) != 0)
        {
            throw ErrnoException.FromLastError($"fsconfig {key}");
        }
    }

    /// <summary>fsconfig(FSCONFIG_CMD_CREATE): the filesystem's fill_super runs here.</summary>
    public static void FsConfigCreate(SafeFd fsfd)
    {
        if (fsconfig_(fsfd, FSCONFIG_CMD_CREATE, null, null, 0) != 0)
        {
            throw ErrnoException.FromLastError("fsconfig create");
        }
    }

    /// <summary>fsmount(2) with FSMOUNT_CLOEXEC: a detached mount object.</summary>
    public static SafeFd FsMount(SafeFd fsfd, uint attrFlags)
    {
        SafeFd handle = new();
        int fd = fsmount_(fsfd, FSMOUNT_CLOEXEC, attrFlags);
        if (fd < 0)
        {
            Errno e = (Errno)Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new ErrnoException("fsmount", e);
        }

        Marshal.InitHandle(handle, fd);
        return handle;
    }

    /// <summary>move_mount(2) of a detached mount fd onto an O_PATH directory fd (both by fd, no path walk).</summary>
    public static void MoveMountOnto(SafeFd mountFd, SafeFd targetDirFd)
    {
        if (move_mount_(mountFd, string.Empty, targetDirFd, string.Empty, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        {
            throw ErrnoException.FromLastError("move_mount");
        }
    }

    /// <summary>mount(2).</summary>
    public static void Mount(string source, string target, string fsType, ulong flags, string? data)
    {
        if (mount_(source, target, fsType, flags, data) != 0)
        {
            throw ErrnoException.FromLastError($"mount {target}");
        }
    }

    /// <summary>umount2(2); returns 0 or the errno.</summary>
    public static Errno Umount2(string target, int flags) =>
        umount2_(target, flags) == 0 ? Errno.None : (Errno)Marshal.GetLastPInvokeError();
}
