using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// Closes descriptors the service inherited but was not meant to have.
/// </summary>
/// <remarks>
/// The rule is the FD_CLOEXEC flag, not a number range and not the file type: every descriptor
/// the .NET runtime and this project create carries close-on-exec (the runtime opens with
/// O_CLOEXEC, dups with F_DUPFD_CLOEXEC; Interop adds O_CLOEXEC, SOCK_CLOEXEC,
/// MSG_CMSG_CLOEXEC), and a descriptor that survived execve cannot carry it. So a descriptor
/// at 3 or above without FD_CLOEXEC was inherited. Measured on the real service before Main
/// runs: the runtime already holds /dev/urandom, and Console adds dups of 1 and 2 — closing
/// by number would close those and let a later fd (the device) take their numbers, so that
/// log lines would be written to the device. 0, 1 and 2 are always kept; so are the
/// descriptors named in <c>keep</c> (the activation socket before it gets FD_CLOEXEC).
/// </remarks>
internal static class InheritedFds
{
    private const string FdDirectory = "/proc/self/fd";

    /// <summary>Upper bound of the F_GETFD scan when /proc is not mounted.</summary>
    private const int ScanLimitWithoutProc = 1 << 16;

    /// <summary>Closes every inherited descriptor not in <paramref name="keep"/>; returns "N (target)" for each.</summary>
    public static List<string> Close(IReadOnlyCollection<int> keep)
    {
        var closed = new List<string>();
        foreach (int fd in OpenDescriptors())
        {
            if (fd <= 2 || keep.Contains(fd))
            {
                continue;
            }

            int? flags = FileInterop.GetDescriptorFlags(fd);
            if (flags is null || (flags.Value & FileInterop.FD_CLOEXEC) != 0)
            {
                continue;
            }

            closed.Add($"{fd} ({Describe(fd)})");
            FileInterop.CloseUnowned(fd);
        }

        return closed;
    }

    /// <summary>The open descriptor numbers, ascending (the directory's own fd may be listed and then gone).</summary>
    public static List<int> OpenDescriptors()
    {
        var fds = new List<int>();
        try
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(FdDirectory))
            {
                if (int.TryParse(Path.GetFileName(entry), out int fd))
                {
                    fds.Add(fd);
                }
            }
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            fds.Clear();
            for (int fd = 0; fd < ScanLimitWithoutProc; fd++)
            {
                if (FileInterop.GetDescriptorFlags(fd) is not null)
                {
                    fds.Add(fd);
                }
            }
        }

        fds.Sort();
        return fds;
    }

    /// <summary>The /proc/self/fd link target of <paramref name="fd"/> (for logs), or "?".</summary>
    public static string Describe(int fd)
    {
        try
        {
            return new FileInfo($"{FdDirectory}/{fd}").LinkTarget ?? "?";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
