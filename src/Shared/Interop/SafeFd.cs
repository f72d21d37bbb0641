using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// Owns one file descriptor from the moment it exists. close(2) is called exactly once and
/// never retried (Linux releases the fd even when close reports EINTR).
/// </summary>
public sealed class SafeFd : SafeHandle
{
    public SafeFd()
        : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    public SafeFd(int fd, bool ownsHandle = true)
        : base(new IntPtr(-1), ownsHandle)
    {
        SetHandle(new IntPtr(fd));
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw descriptor number; valid only while this handle is alive.</summary>
    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle()
    {
        FileInterop.CloseRaw((int)handle.ToInt64());
        return true;
    }
}
