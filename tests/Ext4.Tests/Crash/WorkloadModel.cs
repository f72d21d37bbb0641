namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// What a workload did, in log positions of its <see cref="RecordingBlockDevice"/>: every path
/// that ever existed with the position before the operation that made it appear (paths of the
/// base image at -1), and the fsync-protected files. Positions are event counts, so a path
/// stamped p cannot appear in a state whose writes all come from events before p.
/// </summary>
internal sealed class WorkloadModel
{
    private readonly Dictionary<string, int> _appeared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DurableFile> _durable = new(StringComparer.Ordinal);

    public IEnumerable<DurableFile> DurableFiles => _durable.Values;

    public void Appeared(string path, int at) => _appeared.TryAdd(path, at);

    /// <summary>True when <paramref name="path"/> existed in the base image or appeared through an operation begun before <paramref name="limit"/>.</summary>
    public bool MayExist(string path, int limit) => _appeared.TryGetValue(path, out int at) && at < limit;

    public DurableFile? Durable(string path) => _durable.GetValueOrDefault(path);

    public DurableFile Protect(string path)
    {
        var file = new DurableFile(path);
        _durable.Add(path, file);
        return file;
    }

    /// <summary>A sync returned at log position <paramref name="durableAt"/>: every protected file's current version is durable from there on.</summary>
    public void Synced(int durableAt)
    {
        foreach (var f in _durable.Values)
        {
            f.Synced(durableAt);
        }
    }
}
