using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>Compares two treedump.py outputs and reports the differing paths side by side.</summary>
internal static class TreeDump
{
    /// <param name="what">Prefixed to the failure message: which comparison this is.</param>
    public static void AssertSame(string kernelDump, string safeDump, string? what = null)
    {
        string[] k = File.ReadAllLines(kernelDump);
        string[] s = File.ReadAllLines(safeDump);
        Assert.That(k, Is.Not.Empty, "the kernel's dump is empty");
        var differences = new List<string>();
        int n = Math.Max(k.Length, s.Length);
        for (int i = 0; i < n && differences.Count < 20; i++)
        {
            string a = i < k.Length ? k[i] : "(missing)";
            string b = i < s.Length ? s[i] : "(missing)";
            if (a != b)
            {
                differences.Add($"kernel: {a}\nsafe:   {b}");
            }
        }

        Assert.That(differences, Is.Empty,
            (what is null ? string.Empty : what + ": ") + $"{differences.Count}+ of {k.Length} paths differ (kernel {k.Length} lines, safe {s.Length}):\n" + string.Join("\n", differences));
    }
}
