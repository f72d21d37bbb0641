using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>ptrace(2): used by the sandbox self-test to prove it is blocked.</summary>
public static partial class ProcessInterop
{
    /// <summary>linux/ptrace.h: attach without stopping the tracee; detach.</summary>
    public const int PTRACE_SEIZE = 0x4206;
    public const int PTRACE_DETACH = 17;

    [LibraryImport("libc", EntryPoint = "ptrace", SetLastError = true)]
    private static partial long ptrace_(int request, int pid, nint addr, nint data);

    /// <summary>ptrace(request, pid, 0, 0); returns the errno (None on success).</summary>
    public static Errno Ptrace(int request, int pid) =>
        ptrace_(request, pid, 0, 0) < 0 ? (Errno)Marshal.GetLastPInvokeError() : Errno.None;
}
