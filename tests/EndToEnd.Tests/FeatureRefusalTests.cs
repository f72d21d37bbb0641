using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// casefold and encrypt are not implemented, so an image that carries either feature (as
/// `mkfs.ext4 -O casefold` / `-O encrypt` make it, no casefolded or encrypted inode needed) must
/// be refused with a message naming the feature — never mounted with names or contents the
/// kernel would show differently. Exit status 32 from mount(8), one line on stderr naming the
/// device, no service left behind, image unchanged.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class FeatureRefusalTests
{
    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-features-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => VariantImages.RemoveWorkDir(_work);

    [TestCase("casefold")]
    [TestCase("encrypt")]
    [TestCase("casefold,encrypt")]
    public void UnsupportedFeatureIsRefusedByName(string features)
    {
        TestEnvironment.RequireMountEnvironment();
        string tree = Path.Combine(_work, "tree-" + features);
        Directory.CreateDirectory(Path.Combine(tree, "dir"));
        File.WriteAllText(Path.Combine(tree, "dir", "File"), "x");
        string image = VariantImages.FromTree(_work, "refuse-" + features.Replace(',', '-'), tree, "32M", ["-O", features]);
        Assert.That(VariantImages.Header(image), Does.Contain(features.Split(',')[0]));

        byte[] before = File.ReadAllBytes(image);
        using var activator = new SocketActivator(_work);
        CommandResult r = Mounts.TryMount(image, _work, "ro", activator);
        Assert.That(r.TimedOut, Is.False, $"mount hung: {r}");
        Assert.That(r.StdOut, Does.Contain("exit=32"), $"{r}\nservice log:\n{activator.Log}");
        string[] lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), $"expected one line on stderr: {r.StdErr}");
        Assert.That(lines[0], Does.StartWith("mount.safe.ext4: "));
        Assert.That(lines[0], Does.Contain(image).Or.Contain("/dev/loop"), "the message names the device");
        foreach (string f in features.Split(','))
        {
            Assert.That(lines[0], Does.Contain(f), "the message names every unsupported feature");
        }

        activator.AssertServicesExit(TimeSpan.FromSeconds(10));
        Assert.That(File.ReadAllBytes(image).AsSpan().SequenceEqual(before), "a refused mount changed the image");
    }
}
