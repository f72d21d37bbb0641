using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>--help, --version and usage errors of the published (Native AOT) binaries: the
/// System.CommandLine front end must survive trimming and print the same texts as in the tests
/// of the code.</summary>
[TestFixture]
public sealed class BinaryCommandLineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [TestCase("mount.safe.ext4", "--version")]
    [TestCase("mount.safe.ext4", "-V")]
    [TestCase("safemount-ext4", "--version")]
    [TestCase("safemount-ext4", "-V")]
    public void VersionLine(string program, string flag)
    {
        CommandResult r = Run(program, flag);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.StdOut, Is.EqualTo($"{program} (safemount) {TestEnvironment.ProductVersion}, protocol 1\n"), r.ToString());
        Assert.That(r.StdErr, Is.Empty);
    }

    [TestCase("mount.safe.ext4", "--help", "Usage:\n mount.safe.ext4 SOURCE DIR [-sfnv] [-N NS] [-o OPTIONS] [-t safe.ext4]")]
    [TestCase("mount.safe.ext4", "-h", "Exit status: 0 success, 1 usage or permission error, 32 mount failure.")]
    [TestCase("safemount-ext4", "--help", "Usage:\n safemount-ext4\n")]
    [TestCase("safemount-ext4", "-h", "JOURNAL_STREAM")]
    public void HelpText(string program, string flag, string expected)
    {
        CommandResult r = Run(program, flag);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.StdOut, Does.Contain(expected));
        Assert.That(r.StdErr, Is.Empty);
    }

    [Test]
    public void ServiceRejectsArguments()
    {
        CommandResult r = Run("safemount-ext4", "--bogus");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.StdOut, Is.Empty);
        Assert.That(r.StdErr, Is.EqualTo("safemount-ext4: Unrecognized command or argument '--bogus'.\nTry 'safemount-ext4 --help' for more information.\n"));
    }

    [TestCase(new[] { "-x" }, 1, "mount.safe.ext4: invalid option -- 'x'\n")]
    [TestCase(new[] { "img", "dir", "-t", "ext4" }, 1, "mount.safe.ext4: -t ext4: this helper mounts type safe.ext4 only\n")]
    [TestCase(new[] { "img", "dir", "-o", "x=\"a,b" }, 1, "mount.safe.ext4: unterminated double quote in the option list\n")]
    [TestCase(new[] { "img", "dir", "-o", "remount,ro" }, 32, "mount.safe.ext4: img: remount is not supported by safe.ext4")]
    public void HelperUsageAndRemountAnswers(string[] args, int exit, string stderrStart)
    {
        CommandResult r = Command.Run(TestEnvironment.HelperPath, args, Timeout);
        Assert.That(r.ExitCode, Is.EqualTo(exit), r.ToString());
        Assert.That(r.StdErr, Does.StartWith(stderrStart));
        Assert.That(r.StdOut, Is.Empty);
    }

    private static CommandResult Run(string program, string flag)
    {
        string path = Path.Combine(TestEnvironment.OutDir, program);
        Assert.That(File.Exists(path), $"{path} is missing: run `make publish` first");
        return Command.Run(path, [flag], Timeout);
    }
}
