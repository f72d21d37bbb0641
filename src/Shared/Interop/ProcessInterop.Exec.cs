using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>execve(2), getppid(2): used by the sandbox self-test to prove they are blocked.</summary>
public static unsafe partial class ProcessInterop
{
    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execve_(string path, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int getppid_();

    public static int GetParentPid() => getppid_();

    /// <summary>execve(path, {NULL}, {NULL}); returns the errno only if the call fails (on success it never returns).</summary>
    public static Errno Execve(string path)
    {
        byte* none = null;
        return execve_(path, &none, &none) == 0 ? Errno.None : (Errno)Marshal.GetLastPInvokeError();
    }
}
