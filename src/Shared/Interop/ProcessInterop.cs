using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>Process identity and namespace calls: getpid(2), geteuid(2), setns(2), unsetenv(3).</summary>
public static partial class ProcessInterop
{
    /// <summary>CLONE_NEWNS: the nstype for a mount namespace fd.</summary>
    public const int CLONE_NEWNS = 0x00020000;

    [LibraryImport("libc", EntryPoint = "getpid")]
    private static partial int getpid_();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint geteuid_();

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int setns_(SafeFd fd, int nstype);

    [LibraryImport("libc", EntryPoint = "unsetenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unsetenv_(string name);

    public static int GetPid() => getpid_();

    public static uint GetEuid() => geteuid_();

    /// <summary>setns(2) into the namespace of <paramref name="nsFd"/>.</summary>
    public static void SetNs(SafeFd nsFd, int nstype)
    {
        if (setns_(nsFd, nstype) != 0)
        {
            throw ErrnoException.FromLastError("setns");
        }
    }

    /// <summary>Removes a variable from both the native environ and the runtime's copy.</summary>
    public static void UnsetEnvironment(string name)
    {
        unsetenv_(name);
        Environment.SetEnvironmentVariable(name, null);
    }
}
