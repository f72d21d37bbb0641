using NUnit.Framework;
using Safemount.Ext4Service.Hosting;
using Safemount.Shared.CommandLine;

namespace Safemount.EndToEnd.Tests;

/// <summary>The service's ext4 option table: accepted, refused with a named reason, never ignored silently.</summary>
[TestFixture]
public sealed class FsOptionsTests
{
    [TestCase("")]
    [TestCase("ro")]
    [TestCase("rw,noatime,nodiratime")]
    [TestCase("errors=remount-ro,user_xattr,acl,barrier=1,commit=30,data=ordered")]
    [TestCase("nodelalloc,discard,stripe=16")]
    public void Accepted(string text)
    {
        Assert.That(FsOptions.Parse(text, out string? error), Is.Not.Null, error);
        Assert.That(error, Is.Null);
    }

    [TestCase("bogus", "unknown mount option 'bogus'")]
    [TestCase("ro,errors=sometimes", "errors")]
    [TestCase("sb=8193", "'sb' is not supported")]
    [TestCase("journal_path=/dev/sdb2", "'journal_path' is not supported")]
    [TestCase("commit", "invalid value for mount option 'commit': ''")]
    [TestCase("commit=-1", "invalid value for mount option 'commit': '-1'")]
    [TestCase("commit=86401", "invalid value for mount option 'commit': '86401' (seconds, 0 to 86400)")]
    [TestCase("commit=5s", "invalid value for mount option 'commit': '5s'")]
    [TestCase("noload=1", "unknown mount option 'noload=1'")]
    public void Refused(string text, string reason)
    {
        Assert.That(FsOptions.Parse(text, out string? error), Is.Null);
        Assert.That(error, Does.Contain(reason));
    }

    [Test]
    public void ValuesAreRecorded()
    {
        FsOptions o = FsOptions.Parse("errors=continue,noload,commit=30", out _)!;
        Assert.That(o.Errors, Is.EqualTo("continue"));
        Assert.That(o.CommitSeconds, Is.EqualTo(30u));
        Assert.That(FsOptions.Parse("ro", out _)!.CommitSeconds, Is.Null);
        Assert.That(FsOptions.Parse("ro", out _)!.Errors, Is.Null, "the superblock's s_errors applies");
        Assert.That(o.NoLoad, Is.True);
    }

    [TestCase("", IomapMode.Auto)]
    [TestCase("iomap=auto", IomapMode.Auto)]
    [TestCase("iomap=on", IomapMode.On)]
    [TestCase("iomap", IomapMode.On)]
    [TestCase("ro,iomap=on,iomap=off", IomapMode.Off)]
    public void IomapModeIsParsed(string text, IomapMode mode)
    {
        Assert.That(FsOptions.Parse(text, out string? error)!.Iomap, Is.EqualTo(mode), error);
    }

    [TestCase("iomap=1")]
    [TestCase("iomap=")]
    [TestCase("iomap=Off")]
    public void ABadIomapValueIsRefusedEvenWhenSloppy(string text)
    {
        Assert.That(FsOptions.Parse(text, out string? error), Is.Null);
        Assert.That(error, Is.EqualTo($"invalid value for mount option 'iomap': '{text["iomap=".Length..]}' (auto, on or off)"));
        Assert.That(FsOptions.Parse(text, out _, sloppy: true), Is.Null);
    }

    [Test]
    public void SloppyParsingDropsUnknownOptionsButNotBadValues()
    {
        FsOptions o = FsOptions.Parse("ro,bogus,other=1", out string? error, sloppy: true)!;
        Assert.That(error, Is.Null);
        Assert.That(o.Dropped, Is.EqualTo(new[] { "bogus", "other=1" }));
        Assert.That(FsOptions.Parse("errors=sometimes", out error, sloppy: true), Is.Null);
        Assert.That(error, Does.Contain("errors"));
    }

    [Test]
    public void OverlongOptionStringIsRefused()
    {
        Assert.That(FsOptions.Parse(new string('a', FsOptions.MaxOptionsLength + 1), out string? error), Is.Null);
        Assert.That(error, Does.Contain("longer"));
    }

    [TestCase("cache_size=1m", 1L << 20)]
    [TestCase("cache_size=1048576", 1L << 20)]
    [TestCase("cache_size=16M", 16L << 20)]
    [TestCase("cache_size=20480k", 20L << 20)]
    [TestCase("cache_size=20480K", 20L << 20)]
    [TestCase("cache_size=1g", 1L << 30)]
    [TestCase("cache_size=64G", 64L << 30)]
    [TestCase("ro,cache_size=8m,cache_size=32m", 32L << 20)]
    public void CacheSizeIsParsed(string text, long bytes)
    {
        Assert.That(FsOptions.Parse(text, out string? error)!.CacheBytes, Is.EqualTo(bytes), error);
    }

    [Test]
    public void CacheSizeDefaultsToTheEngineDefault()
    {
        Assert.That(FsOptions.Parse("ro", out _)!.CacheBytes, Is.Null);
    }

    [TestCase("cache_size")]
    [TestCase("cache_size=")]
    [TestCase("cache_size=m")]
    [TestCase("cache_size=1048575")]
    [TestCase("cache_size=1023k")]
    [TestCase("cache_size=0")]
    [TestCase("cache_size=65g")]
    [TestCase("cache_size=68719476737")]
    [TestCase("cache_size=-1m")]
    [TestCase("cache_size=+8m")]
    [TestCase("cache_size=1.5g")]
    [TestCase("cache_size=8mb")]
    [TestCase("cache_size=8t")]
    [TestCase("cache_size= 8m")]
    [TestCase("cache_size=99999999999999999999")]
    [TestCase("cache_size=9223372036854775807k")]
    public void ABadCacheSizeIsRefusedNamingTheOptionEvenWhenSloppy(string text)
    {
        string value = text.Contains('=') ? text[(text.IndexOf('=') + 1)..] : string.Empty;
        Assert.That(FsOptions.Parse(text, out string? error), Is.Null);
        Assert.That(error, Is.EqualTo($"invalid value for mount option 'cache_size': '{value}' (bytes with an optional k, m or g suffix, 1m to 64g)"));
        Assert.That(FsOptions.Parse(text, out _, sloppy: true), Is.Null);
    }
}
