using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>strerror(3), for messages that read like the rest of the system's.</summary>
public static partial class LibcStrings
{
    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial IntPtr strerror(int errnum);

    public static string StrError(int errnum)
    {
        IntPtr p = strerror(errnum);
        return p == IntPtr.Zero ? $"errno {errnum}" : Marshal.PtrToStringUTF8(p) ?? $"errno {errnum}";
    }
}
