using System.Text;
using System.Text.RegularExpressions;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>Thread-safe counts of outcome classes per layout and strategy, typed errors by operation, refusal reasons, and the failures.</summary>
internal sealed partial class MutationTally
{
    private readonly object _lock = new();
    private readonly Dictionary<string, int[]> _byLayout = new();
    private readonly Dictionary<string, int[]> _byStrategy = new();
    private readonly Dictionary<string, int> _typed = new();
    private readonly Dictionary<string, int> _refusals = new();
    private volatile bool _stopped;

    public List<string> Failures { get; } = [];

    public int Images { get; private set; }

    public int Sealed { get; private set; }

    public TimeSpan Elapsed { get; set; }

    public bool Stopped => _stopped;

    public void Stop() => _stopped = true;

    public int Count(OutcomeKind kind)
    {
        lock (_lock)
        {
            return _byLayout.Values.Sum(v => v[(int)kind]);
        }
    }

    public int CountFor(string strategyPrefix, OutcomeKind kind)
    {
        lock (_lock)
        {
            return _byStrategy.Where(p => p.Key.StartsWith(strategyPrefix, StringComparison.Ordinal)).Sum(p => p.Value[(int)kind]);
        }
    }

    /// <summary>Largest per-image allocation and walk time seen, with the job (the margins under the bounds).</summary>
    public (long Bytes, string Job) MaxAllocation { get; private set; }

    public (TimeSpan Time, string Job) MaxWalk { get; private set; }

    public void Add(MutationJob job, string strategy, WalkResult r, long allocated, TimeSpan walk)
    {
        lock (_lock)
        {
            Images++;
            if (allocated > MaxAllocation.Bytes)
            {
                MaxAllocation = (allocated, job.ToString());
            }

            if (walk > MaxWalk.Time)
            {
                MaxWalk = (walk, job.ToString());
            }

            Sealed += strategy.EndsWith("+sealed", StringComparison.Ordinal) ? 1 : 0;
            Bump(_byLayout, job.Layout.Name, r.Kind);
            Bump(_byStrategy, strategy, r.Kind);
            foreach (var (k, n) in r.TypedErrors)
            {
                _typed[k] = _typed.GetValueOrDefault(k) + n;
            }

            if (r.RefusedBecause != null)
            {
                string reason = Digits().Replace(r.RefusedBecause, "N");
                reason = reason.Length > 70 ? reason[..70] : reason;
                _refusals[reason] = _refusals.GetValueOrDefault(reason) + 1;
            }
        }
    }

    public void Fail(MutationJob job, string strategy, string what, List<string> log)
    {
        lock (_lock)
        {
            Images++;
            Failures.Add($"{job} [{strategy}]: {what}\n  edits: {string.Join("; ", log)}");
        }
    }

    public string Report()
    {
        lock (_lock)
        {
            var sb = new StringBuilder();
            sb.AppendLine($"{Images} mutated images in {Elapsed.TotalSeconds:F1} s ({Sealed} with checksums re-sealed), {Failures.Count} failures");
            sb.AppendLine($"  largest walk allocation {MaxAllocation.Bytes / 1024} KiB ({MaxAllocation.Job}), longest walk {MaxWalk.Time.TotalMilliseconds:F0} ms ({MaxWalk.Job})");
            sb.AppendLine($"  outcome classes: Clean {Count(OutcomeKind.Clean)}, TypedError {Count(OutcomeKind.TypedError)}, Refused {Count(OutcomeKind.Refused)}");
            foreach (var (layout, v) in _byLayout.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                sb.AppendLine($"  {layout,-18} clean {v[0],5}  typed {v[1],5}  refused {v[2],5}");
            }

            foreach (var (s, v) in _byStrategy.OrderByDescending(p => p.Value.Sum()).Take(60))
            {
                sb.AppendLine($"  strategy {s,-40} clean {v[0],5}  typed {v[1],5}  refused {v[2],5}");
            }

            sb.AppendLine("  typed errors by operation:");
            foreach (var (k, n) in _typed.OrderByDescending(p => p.Value))
            {
                sb.AppendLine($"    {n,7}  {k}");
            }

            sb.AppendLine("  most frequent refusals:");
            foreach (var (k, n) in _refusals.OrderByDescending(p => p.Value).Take(15))
            {
                sb.AppendLine($"    {n,7}  {k}");
            }

            return sb.ToString();
        }
    }

    private static void Bump(Dictionary<string, int[]> d, string key, OutcomeKind kind)
    {
        if (!d.TryGetValue(key, out var v))
        {
            d[key] = v = new int[3];
        }

        v[(int)kind]++;
    }

    [GeneratedRegex(@"0x[0-9a-f]+|\d+")]
    private static partial Regex Digits();
}
