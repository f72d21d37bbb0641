namespace Safemount.EndToEnd.Tests.Differential;

/// <summary>
/// Which seeds the differential tester runs. CI runs <see cref="CiSeeds"/>: seeds 0..11 select
/// each layout of difftest-populate.py once. SAFEMOUNT_DIFF_SEEDS replaces the list for a
/// campaign: comma-separated seeds and inclusive ranges, e.g. "37", "1000-1199" or "5,9,100-150".
/// </summary>
internal static class DiffSeeds
{
    public const string Variable = "SAFEMOUNT_DIFF_SEEDS";

    public static readonly int[] CiSeeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

    public static IEnumerable<int> Selected()
    {
        string? spec = Environment.GetEnvironmentVariable(Variable);
        return string.IsNullOrWhiteSpace(spec) ? CiSeeds : Parse(spec);
    }

    public static List<int> Parse(string spec)
    {
        var seeds = new List<int>();
        foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-', 1);
            if (dash < 0)
            {
                seeds.Add(int.Parse(part));
                continue;
            }

            int first = int.Parse(part[..dash]);
            int last = int.Parse(part[(dash + 1)..]);
            if (last < first)
            {
                throw new FormatException($"{Variable}: empty range '{part}'");
            }

            for (int s = first; s <= last; s++)
            {
                seeds.Add(s);
            }
        }

        if (seeds.Count == 0)
        {
            throw new FormatException($"{Variable}='{spec}' names no seed");
        }

        return seeds;
    }
}
