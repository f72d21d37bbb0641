namespace Safemount.Shared.Interop;

/// <summary>A failed system call: the call's name and the errno read right after it.</summary>
public sealed class ErrnoException : Exception
{
    public ErrnoException(string call, Errno errno)
        : base($"{call}: {Describe(errno)}")
    {
        Call = call;
        Errno = errno;
    }

    public string Call { get; }

    public Errno Errno { get; }

    /// <summary>Reads errno of the last P/Invoke (SetLastError = true) and wraps it.</summary>
    public static ErrnoException FromLastError(string call) =>
        new(call, (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError());

    /// <summary>strerror-like text, e.g. "No such file or directory (ENOENT)".</summary>
    public static string Describe(Errno errno)
    {
        string text = LibcStrings.StrError((int)errno);
        return $"{text} ({errno})";
    }
}
