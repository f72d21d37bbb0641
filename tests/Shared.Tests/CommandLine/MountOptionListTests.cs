using Safemount.Shared.CommandLine;

namespace Safemount.Shared.Tests.CommandLine;

[TestFixture]
public sealed class MountOptionListTests
{
    [TestCase("ro,noatime", new[] { "ro", "noatime" })]
    [TestCase(",,ro,,", new[] { "ro" })]
    [TestCase("", new string[0])]
    [TestCase("x=\"a,b\",ro", new[] { "x=\"a,b\"", "ro" })]
    [TestCase("context=\"system_u:object_r:tmp_t:s0:c127,c456\",noexec", new[] { "context=\"system_u:object_r:tmp_t:s0:c127,c456\"", "noexec" })]
    [TestCase("a=\"\",b", new[] { "a=\"\"", "b" })]
    [TestCase("a=\"x\"\"y,z\"", new[] { "a=\"x\"\"y,z\"" })]
    public void SplitsAtCommasOutsideDoubleQuotes(string options, string[] expected)
    {
        List<string>? items = MountOptionList.Split(options, out string? error);
        Assert.That(error, Is.Null);
        Assert.That(items, Is.EqualTo(expected));
    }

    [TestCase("x=\"a,b")]
    [TestCase("ro,\"")]
    public void UnterminatedQuoteIsAnError(string options)
    {
        Assert.That(MountOptionList.Split(options, out string? error), Is.Null);
        Assert.That(error, Does.Contain("unterminated double quote"));
    }
}
