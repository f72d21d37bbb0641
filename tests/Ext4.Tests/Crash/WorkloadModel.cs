namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// What a workload did, in log positions of its <see cref="RecordingBlockDevice"/>: every path
/// that ever existed with the position before the operation that made it appear (paths of the
/// base image at -1), and the fsync-protected files. Positions are event counts, so a path
/// stamped p cannot appear in a state whose writes all come from events before p.
/// Every file the workload creates gets an identity (1, 2, ...), which its data carries (see
/// <see cref="WorkloadDriver.Fill"/>); the model keeps which identities were ever named by each
/// path, and which files were given other bytes (free-form: their data proves nothing).
/// </summary>
internal sealed class WorkloadModel
{
    private readonly Dictionary<string, int> _appeared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DurableFile> _durable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<uint>> _identities = new(StringComparer.Ordinal);
    private readonly HashSet<uint> _freeForm = [];

    public IEnumerable<DurableFile> DurableFiles => _durable.Values;

    public void Appeared(string path, int at) => _appeared.TryAdd(path, at);

    /// <summary>True when <paramref name="path"/> existed in the base image or appeared through an operation begun before <paramref name="limit"/>.</summary>
    public bool MayExist(string path, int limit) => _appeared.TryGetValue(path, out int at) && at < limit;

    public void Named(string path, uint identity)
    {
        if (!_identities.TryGetValue(path, out var set))
        {
            _identities[path] = set = [];
        }

        set.Add(identity);
    }

    public void FreeForm(uint identity) => _freeForm.Add(identity);

    /// <summary>The identities <paramref name="path"/> ever named, or null when its data cannot be judged (a base-image path, or a free-form file among them).</summary>
    public IReadOnlySet<uint>? PatternedIdentities(string path) =>
        _identities.TryGetValue(path, out var set) && !set.Overlaps(_freeForm) ? set : null;

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
