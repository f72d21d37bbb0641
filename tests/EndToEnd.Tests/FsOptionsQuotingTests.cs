using NUnit.Framework;
using Safemount.Ext4Service.Hosting;

namespace Safemount.EndToEnd.Tests;

/// <summary>The service splits the forwarded option list as the helper and libmount do: a
/// double-quoted value is one option, whatever commas it holds.</summary>
[TestFixture]
public sealed class FsOptionsQuotingTests
{
    [Test]
    public void QuotedCommasDoNotSplitAnOption()
    {
        Assert.That(FsOptions.Parse("x=\"a,b\",errors=continue", out string? error), Is.Null);
        Assert.That(error, Is.EqualTo("unknown mount option 'x=\"a,b\"'"));
    }

    [Test]
    public void SloppyDropsTheQuotedOptionWhole()
    {
        FsOptions o = FsOptions.Parse("x=\"a,errors=panic\",errors=continue", out string? error, sloppy: true)!;
        Assert.That(error, Is.Null);
        Assert.That(o.Errors, Is.EqualTo("continue"), "the quoted 'errors=panic' is part of x's value, not an option");
        Assert.That(o.Dropped, Is.EqualTo(new[] { "x=\"a,errors=panic\"" }));
    }

    [Test]
    public void UnterminatedQuoteIsRefused()
    {
        Assert.That(FsOptions.Parse("x=\"a,b", out string? error), Is.Null);
        Assert.That(error, Does.Contain("unterminated double quote"));
    }
}
