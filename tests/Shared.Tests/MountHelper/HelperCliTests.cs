using Safemount.MountHelper;
using Safemount.Shared.CommandLine;

namespace Safemount.Shared.Tests.MountHelper;

/// <summary>The helper's command line as mount(8) uses it: help and version through
/// System.CommandLine, "-t", quoted option values, and the answer to "-o remount".</summary>
[TestFixture]
public sealed class HelperCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] argv)
    {
        StringWriter o = new(), e = new();
        int code = new MountHelperApp(o, e, _ => null).Run(argv);
        return (code, o.ToString(), e.ToString());
    }

    [TestCase("--version")]
    [TestCase("-V")]
    [TestCase("-nV")]
    public void VersionIsOneLineWithTheAssemblyVersion(string flag)
    {
        (int code, string o, string e) = Run(flag);
        Assert.That(code, Is.Zero, e);
        Assert.That(o, Is.EqualTo($"mount.safe.ext4 (safemount) {ProductVersion.Number}, protocol 1\n"));
        Assert.That(e, Is.Empty);
    }

    [TestCase("--help")]
    [TestCase("-h")]
    [TestCase("/dev/sdb1")]
    public void HelpIsTheManualStyleTextAndWinsOverEverythingElse(string first)
    {
        (int code, string o, _) = Run(first, "/mnt", "-h", "-V");
        Assert.That(code, Is.Zero);
        Assert.That(o, Is.EqualTo(HelpText.Usage));
        Assert.That(o, Does.Contain("-t TYPE").And.Contain("remount").And.Contain("-o 'x=\"a,b\"'").And.Contain("Exit status: 0 success, 1 usage"));
    }

    [TestCase("remount")]
    [TestCase("ro,remount")]
    [TestCase("remount,bind,ro")]
    public void RemountIsRefusedWith32AndSaysWhatToDo(string options)
    {
        (int code, string o, string e) = Run("/dev/sdb1", "/mnt", "-o", options);
        Assert.That(code, Is.EqualTo(HelperExitCode.MountFailure));
        Assert.That(o, Is.Empty);
        Assert.That(e, Is.EqualTo($"mount.safe.ext4: /dev/sdb1: {MountOptionPolicy.RemountRefusal}\n"));
        Assert.That(e, Does.Contain("remount is not supported").And.Contain("umount DIR").And.Contain("mount it again"));
    }

    [Test]
    public void QuotedRemountValueIsNotTheRemountFlag()
    {
        // 'x="remount"' is an option x whose value mentions remount: forwarded, not refused.
        MountPolicy p = MountOptionPolicy.Apply("x=\"remount\"", sloppy: false);
        Assert.That(p.FsOptions, Is.EqualTo("x=\"remount\""));
    }

    [Test]
    public void QuotedValueWithCommasIsForwardedAsOneOption()
    {
        MountPolicy p = MountOptionPolicy.Apply("ro,x=\"a,b\",errors=continue", sloppy: false);
        Assert.That(p.ReadOnly, Is.True);
        Assert.That(p.FsOptions, Is.EqualTo("x=\"a,b\",errors=continue"));
    }

    [Test]
    public void UnterminatedQuoteIsAUsageError()
    {
        (int code, _, string e) = Run("/dev/sdb1", "/mnt", "-o", "x=\"a,b");
        Assert.That(code, Is.EqualTo(HelperExitCode.Usage));
        Assert.That(e, Is.EqualTo("mount.safe.ext4: unterminated double quote in the option list\n"));
    }

    [TestCase("ro,nofail", 0, "")]
    [TestCase("ro", 32, "cannot open: No such file or directory")]
    public void MissingSourceIsNotAnErrorUnderNofail(string options, int exit, string message)
    {
        string dir = Directory.CreateTempSubdirectory("safemount-nofail-").FullName;
        try
        {
            string missing = Path.Combine(dir, "no-such-image");
            (int code, string o, string e) = Run(missing, dir, "-o", options);
            Assert.That(code, Is.EqualTo(exit), e);
            Assert.That(o, Is.Empty);
            Assert.That(e, message.Length == 0 ? Is.Empty : Does.StartWith($"mount.safe.ext4: {missing}: {message}"));
            (code, _, e) = Run(missing, dir, "-v", "-o", options);
            Assert.That(code, Is.EqualTo(exit));
            if (exit == 0)
            {
                Assert.That(e, Is.EqualTo($"mount.safe.ext4: {missing}: cannot open: No such file or directory (ENOENT); nofail: nothing mounted\n"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestCase("-t", "safe.ext4")]
    [TestCase("-tsafe.ext4")]
    [TestCase("-t", "fuseblk.safe.ext4")]
    public void TypeOptionNamingThisHelperIsAccepted(params string[] t)
    {
        HelperArguments a = HelperArguments.Parse(["/dev/sdb1", "/mnt", .. t, "-o", "ro"]);
        Assert.That(a.Options, Is.EqualTo("ro"));
    }

    [Test]
    public void OtherTypeIsAUsageError()
    {
        (int code, _, string e) = Run("/dev/sdb1", "/mnt", "-t", "ext4");
        Assert.That(code, Is.EqualTo(HelperExitCode.Usage));
        Assert.That(e, Does.StartWith("mount.safe.ext4: -t ext4: this helper mounts type safe.ext4 only\n"));
    }
}
