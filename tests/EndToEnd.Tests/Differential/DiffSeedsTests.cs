using NUnit.Framework;

namespace Safemount.EndToEnd.Tests.Differential;

/// <summary>The SAFEMOUNT_DIFF_SEEDS grammar and the CI list's coverage of every layout.</summary>
[TestFixture]
public sealed class DiffSeedsTests
{
    [TestCase("37", new[] { 37 })]
    [TestCase("3,5", new[] { 3, 5 })]
    [TestCase("10-13", new[] { 10, 11, 12, 13 })]
    [TestCase(" 1, 4-5 ,9", new[] { 1, 4, 5, 9 })]
    public void SpecificationsParse(string spec, int[] expected) =>
        Assert.That(DiffSeeds.Parse(spec), Is.EqualTo(expected));

    [TestCase("")]
    [TestCase("5-3")]
    [TestCase("x")]
    [TestCase("1-")]
    public void BadSpecificationsAreRejected(string spec) =>
        Assert.That(() => DiffSeeds.Parse(spec), Throws.InstanceOf<FormatException>());

    [Test]
    public void CiSeedsCoverEveryLayout()
    {
        CommandResult r = Command.Run("python3", [DiffLayout.PopulateScript, "layouts"], TimeSpan.FromSeconds(30));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        string[] all = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(all, Has.Length.GreaterThanOrEqualTo(10));
        // Seed S selects layout S mod len(LAYOUTS); check a few through the real `layout` answer.
        Assert.That(DiffLayout.ForSeed(0).Name, Is.EqualTo(all[0]));
        Assert.That(DiffLayout.ForSeed(all.Length + 1).Name, Is.EqualTo(all[1]));
        var ci = DiffSeeds.CiSeeds.Select(s => all[s % all.Length]).ToHashSet();
        Assert.That(ci, Is.EquivalentTo(all));
    }
}
