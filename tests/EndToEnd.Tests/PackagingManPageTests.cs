using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The man pages docs/man/*.8: mandoc finds no warning (man-pages(7) conventions), and
/// mount.safe.ext4(8) documents every option that `mount.safe.ext4 --help` of the published
/// helper prints, plus the fstab example with nofail and x-systemd.automount, so the page cannot
/// silently drift from the binary.
/// </summary>
[TestFixture]
public sealed partial class PackagingManPageTests
{
    private static string ManDir => Path.Combine(TestEnvironment.RepoRoot, "docs", "man");

    [TestCase("mount.safe.ext4.8")]
    [TestCase("safemount-ext4.8")]
    public void LintsCleanly(string page)
    {
        CommandResult r = Command.Run("mandoc", ["-Tlint", "-Wwarning", Path.Combine(ManDir, page)], TimeSpan.FromSeconds(30));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.StdOut + r.StdErr, Is.Empty, r.ToString());
    }

    [Test]
    public void HelperPageDocumentsEveryOptionOfHelp()
    {
        Assert.That(File.Exists(TestEnvironment.HelperPath), $"{TestEnvironment.HelperPath} is missing: run `make publish` first");
        CommandResult help = Command.Run(TestEnvironment.HelperPath, ["--help"], TimeSpan.FromSeconds(30));
        Assert.That(help.ExitCode, Is.Zero, help.ToString());
        // Option lines of the help: " -o OPTIONS ...", " -h, --help ...".
        var options = OptionLine().Matches(help.StdOut)
            .SelectMany(m => m.Groups["opts"].Value.Split(", ").Select(o => o.Split(' ')[0]))
            .ToList();
        Assert.That(options, Does.Contain("-o").And.Contain("--help").And.Contain("--version"), help.StdOut);

        CommandResult page = Command.Bash($"mandoc -Tascii '{Path.Combine(ManDir, "mount.safe.ext4.8")}' | col -b", TimeSpan.FromSeconds(30));
        Assert.That(page.ExitCode, Is.Zero, page.ToString());
        string text = page.StdOut;
        string options8 = text[text.IndexOf("\nOPTIONS\n", StringComparison.Ordinal)..text.IndexOf("\nMOUNT OPTIONS\n", StringComparison.Ordinal)];
        foreach (string option in options)
        {
            Assert.That(options8, Does.Match($@"(^|\s|,){Regex.Escape(option)}(\s|,|$)"), $"OPTIONS of mount.safe.ext4(8) lacks {option}");
        }

        Assert.That(text, Does.Match(@"safe\.ext4\s+\S*nofail\S*x-systemd\.automount"), "fstab example with nofail and x-systemd.automount");
        Assert.That(text, Does.Contain("EXIT STATUS").And.Contain("SECURITY MODEL").And.Contain("EXT4 FEATURES"));
    }

    [GeneratedRegex(@"^ (?<opts>-[A-Za-z](?:, --[a-z-]+)?(?: [A-Z]+)?)\s{2,}", RegexOptions.Multiline)]
    private static partial Regex OptionLine();
}
