using System.Globalization;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// Step 4 of <see cref="ServiceSandbox"/>: RLIMIT_NOFILE, RLIMIT_CORE and RLIMIT_NPROC, soft
/// and hard alike (prlimit64), never above what is already there.
/// </summary>
internal static class ResourceLimits
{
    /// <summary>
    /// Descriptors above the highest one open at confinement: the /dev/fuse fd still to come,
    /// and what the runtime opens later (measured on the serving service: a signal-handling
    /// pipe pair and Console's dups of 1 and 2, four in all). recvmsg cannot install an fd
    /// past the limit, so the helper cannot push more.
    /// </summary>
    public const int FdHeadroom = 16;

    /// <summary>
    /// Tasks this service may add after confinement. RLIMIT_NPROC counts every thread of the
    /// real uid (kernel/fork.c copy_process). Measured on the serving service: 10 threads
    /// (main, finalizer, console logger, signal handler, GC, helper watcher, 4 FUSE workers);
    /// the thread pool may add a few. 48 leaves room and still stops a runaway thread loop; the
    /// systemd unit's TasksMax=64 is the same order.
    /// </summary>
    public const int TaskHeadroom = 48;

    /// <summary>Applies the limits; returns (NOFILE, NPROC) as set.</summary>
    public static (ulong NoFile, ulong NProc) Apply(int highestOpenFd)
    {
        ulong noFile = (ulong)highestOpenFd + 1 + FdHeadroom;
        SetAtMost(ResourceInterop.RLIMIT_NOFILE, noFile);
        SetAtMost(ResourceInterop.RLIMIT_CORE, 0);

        (uint ruid, _, _) = IdentityInterop.GetResUid();
        ulong nproc = (ulong)CountTasksOfUid(ruid) + TaskHeadroom;
        SetAtMost(ResourceInterop.RLIMIT_NPROC, nproc);
        return (ResourceInterop.Get(ResourceInterop.RLIMIT_NOFILE).rlim_max, ResourceInterop.Get(ResourceInterop.RLIMIT_NPROC).rlim_max);
    }

    /// <summary>
    /// Threads of every process whose real uid is <paramref name="uid"/>, as far as /proc shows
    /// them (the kernel's count may be higher when hidepid hides other processes of the same
    /// uid; a root-started service shares uid 65534 with any other nobody process). At least
    /// this process's own threads.
    /// </summary>
    public static int CountTasksOfUid(uint uid)
    {
        int own = Directory.Exists("/proc/self/task") ? Directory.GetDirectories("/proc/self/task").Length : 1;
        int total = 0;
        string uidText = uid.ToString(CultureInfo.InvariantCulture);
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
            {
                continue;
            }

            try
            {
                string? realUid = null;
                int threads = 0;
                foreach (string line in File.ReadLines(Path.Combine(dir, "status")))
                {
                    if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    {
                        string[] ids = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                        realUid = ids.Length > 1 ? ids[1] : null;
                    }
                    else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                    {
                        _ = int.TryParse(line.AsSpan(8).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out threads);
                    }
                }

                if (realUid == uidText)
                {
                    total += threads;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while being read, or its status is hidden: not counted.
            }
        }

        return Math.Max(total, own);
    }

    private static void SetAtMost(int resource, ulong limit)
    {
        rlimit64 current = ResourceInterop.Get(resource);
        ulong value = Math.Min(limit, current.rlim_max);
        if (current.rlim_cur == value && current.rlim_max == value)
        {
            return;
        }

        ResourceInterop.Set(resource, new rlimit64 { rlim_cur = value, rlim_max = value });
    }
}
