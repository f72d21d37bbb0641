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
        var ci = DiffSeeds.CiSeeds.Select(s => DiffLayout.ForSeed(s).Name).ToHashSet();
        // The layout list repeats with period len(LAYOUTS): probe far enough to see all of it.
        var all = Enumerable.Range(0, 64).Select(s => DiffLayout.ForSeed(s).Name).ToHashSet();
        Assert.That(ci, Is.EquivalentTo(all));
    }
}
