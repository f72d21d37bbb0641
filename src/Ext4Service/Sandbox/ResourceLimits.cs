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
    /// (main, finalizer, console logger, signal handler, GC, helper watcher, 4 FUSE workers),
    /// and the logger factory's builder while it runs (Hosting/LoggerStartup); the thread pool
    /// may add a few. 48 leaves room and still stops a runaway thread loop; the
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
        int own = Directory.Exists("/proc/self/task") ? Directory.GetDirectories("/proc/self/task").Length : 1;
        ulong nproc = (ulong)Math.Max(CountTasksOfUid(ruid), own) + TaskHeadroom;
        SetAtMost(ResourceInterop.RLIMIT_NPROC, nproc);
        return (ResourceInterop.Get(ResourceInterop.RLIMIT_NOFILE).rlim_max, ResourceInterop.Get(ResourceInterop.RLIMIT_NPROC).rlim_max);
    }

    /// <summary>Bytes of /proc/PID/status read; "Uid:" and "Threads:" come well before (about 1 KiB in).</summary>
    private const int StatusPrefixBytes = 4096;

    /// <summary>
    /// Threads of every process whose real uid is <paramref name="uid"/>, as far as /proc shows
    /// them (the kernel's count may be higher when hidepid hides other processes of the same
    /// uid; a root-started service shares uid 65534 with any other nobody process).
    /// One open/read/close per process on a stack buffer: this runs inside every mount's setup,
    /// and with a StreamReader per status file the sandbox step took 4 ms on a quiet machine and
    /// 12-43 ms under load, with a few hundred processes (bench/RESULTS.md "Run 6").
    /// </summary>
    public static int CountTasksOfUid(uint uid)
    {
        int total = 0;
        Span<byte> buffer = stackalloc byte[StatusPrefixBytes];
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            string name = Path.GetFileName(dir);
            if (name.Length == 0 || !name.All(char.IsAsciiDigit))
            {
                continue;
            }

            SafeFd status;
            try
            {
                status = FileInterop.Open(dir + "/status", FileInterop.O_RDONLY);
            }
            catch (ErrnoException)
            {
                // The process ended since the listing, or its status is hidden: not counted.
                continue;
            }

            using (status)
            {
                int filled = 0;
                long n;
                while (filled < buffer.Length && (n = FileInterop.Read(status, buffer[filled..])) > 0)
                {
                    filled += (int)n;
                }

                if (ParseStatus(buffer[..filled], out uint realUid, out int threads) && realUid == uid)
                {
                    total += threads;
                }
            }
        }

        return total;
    }

    /// <summary>
    /// The real uid (first field of "Uid:") and "Threads:" of a /proc/PID/status text
    /// (fs/proc/array.c: task_state prints "Uid:\treal\teffective...", task_sig
    /// "Threads:\tN"). False when either line is missing or malformed, e.g. cut off by the read.
    /// </summary>
    public static bool ParseStatus(ReadOnlySpan<byte> text, out uint realUid, out int threads)
    {
        realUid = 0;
        threads = 0;
        bool haveUid = false, haveThreads = false;
        while (!text.IsEmpty && !(haveUid && haveThreads))
        {
            int eol = text.IndexOf((byte)'\n');
            if (eol < 0)
            {
                // A last line without its newline may be cut off: not trusted.
                break;
            }

            ReadOnlySpan<byte> line = text[..eol];
            text = text[(eol + 1)..];
            if (line.StartsWith("Uid:"u8))
            {
                ReadOnlySpan<byte> fields = line[4..].TrimStart("\t "u8);
                int end = fields.IndexOfAny("\t "u8);
                haveUid = uint.TryParse(end < 0 ? fields : fields[..end], NumberStyles.None, CultureInfo.InvariantCulture, out realUid);
            }
            else if (line.StartsWith("Threads:"u8))
            {
                haveThreads = int.TryParse(line[8..].Trim("\t "u8), NumberStyles.None, CultureInfo.InvariantCulture, out threads);
            }
        }

        return haveUid && haveThreads;
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
