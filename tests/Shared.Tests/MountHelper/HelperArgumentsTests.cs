using Safemount.MountHelper;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.MountHelper;

[TestFixture]
public sealed class HelperArgumentsTests
{
    [Test]
    public void FullCommandLineAsMountPassesIt()
    {
        HelperArguments a = HelperArguments.Parse(new[] { "/dev/sdb1", "/mnt", "-o", "ro,noatime", "-n", "-v", "-s", "-f" });
        Assert.That(a.Source, Is.EqualTo("/dev/sdb1"));
        Assert.That(a.Mountpoint, Is.EqualTo("/mnt"));
        Assert.That(a.Options, Is.EqualTo("ro,noatime"));
        Assert.That(a.NoMtab && a.Verbose && a.Sloppy && a.Fake, Is.True);
    }

    [Test]
    public void GroupedFlagsAttachedValuesAndRepeatedOptions()
    {
        HelperArguments a = HelperArguments.Parse(new[] { "-nv", "-oro", "img", "dir", "-o", "errors=continue", "-N123" });
        Assert.That(a.Options, Is.EqualTo("ro,errors=continue"));
        Assert.That(a.Namespace, Is.EqualTo("123"));
        Assert.That(a.Verbose && a.NoMtab, Is.True);
    }

    [TestCase(new string[0], "missing SOURCE and DIR")]
    [TestCase(new[] { "/dev/sdb1" }, "missing DIR")]
    [TestCase(new[] { "a", "b", "c" }, "unexpected argument 'c'")]
    [TestCase(new[] { "a", "b", "-o" }, "option requires an argument -- 'o'")]
    [TestCase(new[] { "a", "b", "-x" }, "invalid option -- 'x'")]
    [TestCase(new[] { "a", "b", "--bogus" }, "unrecognized option '--bogus'")]
    [TestCase(new[] { "", "b" }, "SOURCE and DIR must not be empty")]
    public void UsageErrors(string[] argv, string message)
    {
        UsageException e = Assert.Throws<UsageException>(() => HelperArguments.Parse(argv))!;
        Assert.That(e.Message, Is.EqualTo(message));
    }

    [TestCase("")]
    [TestCase("a b -o")]
    [TestCase("a b -o ro=1")]
    [TestCase("a b -o fd=3")]
    [TestCase("a b -N 1")]
    public void UsageErrorsExitOneWithOnePrefixedLine(string commandLine)
    {
        string[] argv = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        StringWriter err = new();
        int code = new MountHelperApp(TextWriter.Null, err, _ => null).Run(argv);
        Assert.That(code, Is.EqualTo(1));
        string first = err.ToString().Split('\n')[0];
        Assert.That(first, Does.StartWith("mount.safe.ext4: "));
    }

    [Test]
    public void HelpAndVersionExitZero()
    {
        StringWriter o = new();
        Assert.That(new MountHelperApp(o, TextWriter.Null, _ => null).Run(new[] { "--help" }), Is.EqualTo(0));
        Assert.That(o.ToString(), Does.Contain("Usage:").And.Contain("nosuid,nodev").And.Contain("Exit status"));
        o = new();
        Assert.That(new MountHelperApp(o, TextWriter.Null, _ => null).Run(new[] { "-V" }), Is.EqualTo(0));
        Assert.That(o.ToString(), Does.StartWith("mount.safe.ext4"));
    }

    [Test]
    public void NotRootCannotBeTestedAsRoot()
    {
        // The euid != 0 → exit 1 path cannot run here: the tests run as root (TESTING.md).
        Assert.That(ProcessInterop.GetEuid(), Is.EqualTo(0u), "these tests expect to run as root");
    }
}
