namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// The contents a file protected by fsync has been given, in order. Invariants: the file is
/// never renamed or removed; each change appends a full-content version stamped with the log
/// position before the operation that made it (none of its writes precede that position);
/// each sync records the version current when it returned and the log position after it.
/// </summary>
internal sealed class DurableFile(string path)
{
    private readonly List<(byte[] Content, int At)> _versions = [];
    private readonly List<(int Version, int DurableAt)> _syncs = [];

    public string Path { get; } = path;

    /// <summary>The current content (the last version; empty before the first).</summary>
    public byte[] Current => _versions.Count == 0 ? [] : _versions[^1].Content;

    public void AddVersion(byte[] content, int at) => _versions.Add((content, at));

    public void Synced(int durableAt)
    {
        if (_versions.Count > 0)
        {
            _syncs.Add((_versions.Count - 1, durableAt));
        }
    }

    /// <summary>
    /// The oldest version a state must show: the one current at the last sync whose log
    /// position is at most <paramref name="prefix"/> (every event before the state's prefix is on
    /// the medium); -1 when no sync is that old and the file may be anything or absent.
    /// </summary>
    public int Required(int prefix)
    {
        int required = -1;
        foreach (var (version, durableAt) in _syncs)
        {
            if (durableAt <= prefix)
            {
                required = Math.Max(required, version);
            }
        }

        return required;
    }

    /// <summary>
    /// Null when <paramref name="actual"/> is acceptable for a state with the given prefix and
    /// limit, else why not. Acceptable: its length is that of a candidate version (the required
    /// one or a later one begun before <paramref name="limit"/>), and every byte equals the same
    /// byte of some candidate long enough to hold it. Overwrites of data in place are not atomic
    /// (ordered mode journals metadata only) and the device may persist any subset of the
    /// unflushed writes, each a byte range, so a crash during rewrites may mix consecutive
    /// versions even inside one block; it never shows a byte no candidate had (zeros where data
    /// was, another file's bytes, stale bytes of an older version). Whole blocks are compared
    /// first; a block no single candidate matches is compared byte by byte.
    /// </summary>
    public string? Check(ReadOnlySpan<byte> actual, int prefix, int limit, int blockSize)
    {
        int required = Required(prefix);
        if (required < 0)
        {
            return null;
        }

        var candidates = _versions.Skip(required).Where(v => v.At < limit).Select(v => v.Content).ToList();
        string range = $"versions {required}..{required + candidates.Count - 1} of {_versions.Count}";
        int length = actual.Length;
        if (!candidates.Any(c => c.Length == length))
        {
            return $"{Path}: size {actual.Length}, expected one of [{string.Join(", ", candidates.Select(c => c.Length).Distinct())}] ({range})";
        }

        for (int start = 0; start < actual.Length; start += blockSize)
        {
            int end = Math.Min(actual.Length, start + blockSize);
            var chunk = actual[start..end];
            bool match = false;
            foreach (var c in candidates)
            {
                if (c.Length >= end && chunk.SequenceEqual(c.AsSpan(start, end - start)))
                {
                    match = true;
                    break;
                }
            }

            for (int at = start; !match && at < end; at++)
            {
                byte b = actual[at];
                int i = at;
                if (!candidates.Any(c => c.Length > i && c[i] == b))
                {
                    var seen = candidates.Where(c => c.Length > i).Select(c => $"0x{c[i]:x2}").Distinct();
                    return $"{Path}: byte {at} is 0x{b:x2}, no version from {required} on has it (they have {string.Join(", ", seen)}; {range})";
                }
            }
        }

        return null;
    }
}
