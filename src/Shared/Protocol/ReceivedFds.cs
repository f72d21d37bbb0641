using Safemount.Shared.Interop;

namespace Safemount.Shared.Protocol;

/// <summary>
/// Owns the fds that arrived with one message. Disposing closes every fd not taken out with
/// <see cref="Take"/>; so a rejected message never leaks a descriptor.
/// </summary>
public sealed class ReceivedFds : IDisposable
{
    private readonly List<SafeFd> _fds;

    internal ReceivedFds(List<SafeFd> fds) => _fds = fds;

    public int Count => _fds.Count;

    /// <summary>Transfers ownership of fd <paramref name="index"/> to the caller.</summary>
    public SafeFd Take(int index)
    {
        SafeFd fd = _fds[index];
        _fds[index] = new SafeFd();
        return fd;
    }

    public void Dispose()
    {
        foreach (SafeFd fd in _fds)
        {
            fd.Dispose();
        }

        _fds.Clear();
    }
}
