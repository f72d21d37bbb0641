using System.Collections.Concurrent;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// Open file and directory handles (the fh of fuse_open_out). Ids are never reused within a
/// mount, so a stale fh from the kernel can only miss, never hit another file's state.
/// </summary>
internal sealed class HandleTable<T>
    where T : class
{
    private readonly ConcurrentDictionary<ulong, T> _open = new();
    private long _next;

    public int Count => _open.Count;

    public ulong Add(T value)
    {
        ulong fh = (ulong)Interlocked.Increment(ref _next);
        _open[fh] = value;
        return fh;
    }

    public T? Get(ulong fh) => _open.TryGetValue(fh, out T? v) ? v : null;

    public void Remove(ulong fh) => _open.TryRemove(fh, out _);

    /// <summary>Replaces the state of an open handle (no effect when it was released meanwhile).</summary>
    public void Replace(ulong fh, T value)
    {
        if (_open.TryGetValue(fh, out T? current))
        {
            _open.TryUpdate(fh, value, current);
        }
    }
}
