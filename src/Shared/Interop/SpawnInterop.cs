using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// posix_spawn(3) with file actions and attributes, and waitpid(2). The opaque glibc objects
/// (posix_spawn_file_actions_t: 80 bytes, posix_spawnattr_t: 336 bytes, sigset_t: 128 bytes on
/// x86_64 and aarch64) live in native buffers of <see cref="OpaqueBytes"/>, larger than any of them.
/// </summary>
public static unsafe partial class SpawnInterop
{
    /// <summary>posix_spawnattr_setflags: reset the signals in the sigdefault set to SIG_DFL.</summary>
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;

    /// <summary>posix_spawnattr_setflags: set the child's signal mask.</summary>
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;

    /// <summary>posix_spawnattr_setflags (glibc ≥ 2.26): setsid() in the child.</summary>
    public const short POSIX_SPAWN_SETSID = 0x80;

    /// <summary>waitpid(2) option: return at once if no child has exited.</summary>
    public const int WNOHANG = 1;

    /// <summary>Bytes reserved for each opaque libc object.</summary>
    private const int OpaqueBytes = 1024;

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    private static partial int posix_spawn_(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int file_actions_init_(void* fa);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int file_actions_destroy_(void* fa);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int file_actions_adddup2_(void* fa, int fd, int newfd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen")]
    private static partial int file_actions_addopen_(void* fa, int fd, byte* path, int oflag, uint mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    private static partial int file_actions_addclosefrom_(void* fa, int from);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static partial int attr_init_(void* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int attr_destroy_(void* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int attr_setflags_(void* attr, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int attr_setsigmask_(void* attr, void* sigset);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int attr_setsigdefault_(void* attr, void* sigset);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    private static partial int sigemptyset_(void* set);

    [LibraryImport("libc", EntryPoint = "sigfillset")]
    private static partial int sigfillset_(void* set);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int waitpid_(int pid, int* status, int options);

    /// <summary>One file action of <see cref="Spawn"/>, applied in order in the child.</summary>
    public abstract record FileAction;

    /// <summary>dup2(<paramref name="Fd"/>, <paramref name="NewFd"/>): the result is not close-on-exec.</summary>
    public sealed record Dup2(SafeFd Fd, int NewFd) : FileAction;

    /// <summary>open(<paramref name="Path"/>, <paramref name="Flags"/>) installed as <paramref name="NewFd"/>.</summary>
    public sealed record OpenAs(int NewFd, string Path, int Flags) : FileAction;

    /// <summary>closefrom(<paramref name="LowFd"/>) (glibc ≥ 2.34): every fd from there up is closed.</summary>
    public sealed record CloseFrom(int LowFd) : FileAction;

    /// <summary>
    /// posix_spawn(3) of <paramref name="path"/> (no PATH search) with exactly <paramref name="environment"/>,
    /// the file actions in order, all signals unblocked and reset to their defaults, and
    /// <paramref name="newSession"/> for setsid(). Returns the child's pid; failure (including the
    /// exec itself, which glibc reports synchronously) throws <see cref="ErrnoException"/>.
    /// </summary>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment, IReadOnlyList<FileAction> actions, bool newSession)
    {
        List<nint> strings = new();
        byte* fa = (byte*)NativeMemory.AllocZeroed(OpaqueBytes);
        byte* attr = (byte*)NativeMemory.AllocZeroed(OpaqueBytes);
        byte* sigs = (byte*)NativeMemory.AllocZeroed(OpaqueBytes);
        byte** argvP = (byte**)NativeMemory.AllocZeroed((nuint)(sizeof(nint) * (argv.Count + 1)));
        byte** envP = (byte**)NativeMemory.AllocZeroed((nuint)(sizeof(nint) * (environment.Count + 1)));
        List<SafeFd> referenced = new();
        bool faReady = false;
        bool attrReady = false;
        try
        {
            byte* Utf8(string s)
            {
                nint p = Marshal.StringToCoTaskMemUTF8(s);
                strings.Add(p);
                return (byte*)p;
            }

            for (int i = 0; i < argv.Count; i++)
            {
                argvP[i] = Utf8(argv[i]);
            }

            for (int i = 0; i < environment.Count; i++)
            {
                envP[i] = Utf8(environment[i]);
            }

            Check(file_actions_init_(fa), "posix_spawn_file_actions_init");
            faReady = true;
            foreach (FileAction a in actions)
            {
                switch (a)
                {
                    case Dup2 d:
                        bool added = false;
                        d.Fd.DangerousAddRef(ref added);
                        referenced.Add(d.Fd);
                        Check(file_actions_adddup2_(fa, d.Fd.Fd, d.NewFd), "posix_spawn_file_actions_adddup2");
                        break;
                    case OpenAs o:
                        Check(file_actions_addopen_(fa, o.NewFd, Utf8(o.Path), o.Flags, 0), "posix_spawn_file_actions_addopen");
                        break;
                    case CloseFrom c:
                        try
                        {
                            Check(file_actions_addclosefrom_(fa, c.LowFd), "posix_spawn_file_actions_addclosefrom_np");
                        }
                        catch (EntryPointNotFoundException)
                        {
                            // glibc < 2.34: only close-on-exec keeps fds from the child (every fd
                            // this project opens has it; one inherited without it would pass).
                        }

                        break;
                }
            }

            Check(attr_init_(attr), "posix_spawnattr_init");
            attrReady = true;
            sigemptyset_(sigs);
            Check(attr_setsigmask_(attr, sigs), "posix_spawnattr_setsigmask");
            sigfillset_(sigs);
            Check(attr_setsigdefault_(attr, sigs), "posix_spawnattr_setsigdefault");
            short flags = (short)(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (newSession ? POSIX_SPAWN_SETSID : 0));
            Check(attr_setflags_(attr, flags), "posix_spawnattr_setflags");

            int pid = 0;
            Check(posix_spawn_(&pid, Utf8(path), fa, attr, argvP, envP), $"posix_spawn {path}");
            return pid;
        }
        finally
        {
            foreach (SafeFd fd in referenced)
            {
                fd.DangerousRelease();
            }

            if (faReady)
            {
                file_actions_destroy_(fa);
            }

            if (attrReady)
            {
                attr_destroy_(attr);
            }

            foreach (nint p in strings)
            {
                Marshal.FreeCoTaskMem(p);
            }

            NativeMemory.Free(fa);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigs);
            NativeMemory.Free(argvP);
            NativeMemory.Free(envP);
        }
    }

    /// <summary>
    /// waitpid(<paramref name="pid"/>, WNOHANG): true with the raw wait status once the child has
    /// exited (and is reaped), false while it runs. ECHILD (not our child, or already reaped) throws.
    /// </summary>
    public static bool TryReap(int pid, out int status)
    {
        int s = 0;
        int r;
        do
        {
            r = waitpid_(pid, &s, WNOHANG);
        }
        while (r < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
        if (r < 0)
        {
            throw ErrnoException.FromLastError("waitpid");
        }

        status = s;
        return r == pid;
    }

    /// <summary>The posix_spawn family returns an error number instead of setting errno.</summary>
    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new ErrnoException(call, (Errno)result);
        }
    }
}
