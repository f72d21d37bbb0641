using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// Images the service must refuse: each gets exit status 32 from mount(8), one line on stderr
/// that names the source and the reason, no hang (the command has a deadline), no leftover
/// service process, and an unchanged image.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RefusedImageTests
{
    private string _work = string.Empty;
    private string _good = string.Empty;

    [OneTimeSetUp]
    public void BuildGoodImage()
    {
        _work = Directory.CreateTempSubdirectory("safemount-refuse-").FullName;
        if (TestEnvironment.IsRoot)
        {
            _good = TestImages.Build(_work, new ImageLayout("refuse-base", [], "64M", 100, false, 3));
        }
    }

    [OneTimeTearDown]
    public void RemoveWorkDir() => Directory.Delete(_work, recursive: true);

    [Test]
    public void CorruptSuperblockChecksumIsRefused()
    {
        // s_volume_name lives at superblock offset 0x78; changing it breaks s_checksum.
        string image = Mutate("bad-csum", img => Patch(img, 1024 + 0x78, "X"u8));
        AssertRefused(image, "checksum");
    }

    [Test]
    public void BadMagicIsRefused()
    {
        string image = Mutate("bad-magic", img => Patch(img, 1024 + 0x38, [0x00, 0x00]));
        AssertRefused(image, "ext");
    }

    [Test]
    public void UnknownIncompatFeatureIsRefusedByName()
    {
        // Without metadata_csum the superblock has no checksum to trip over first; set incompat
        // bit 0x40000000, which no ext4 version defines.
        string image = Path.Combine(_work, "unknown-incompat.img");
        TestEnvironment.RequireMountEnvironment();
        CommandResult mk = Command.Run("mkfs.ext4", ["-q", "-F", "-O", "^metadata_csum", image, "32M"], TimeSpan.FromMinutes(1));
        Assert.That(mk.ExitCode, Is.Zero, mk.ToString());
        using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
        {
            var b = new byte[4];
            f.Position = 1024 + 0x60;
            f.ReadExactly(b);
            uint incompat = BitConverter.ToUInt32(b) | 0x40000000u;
            f.Position = 1024 + 0x60;
            f.Write(BitConverter.GetBytes(incompat));
        }

        AssertRefused(image, "0x40000000");
    }

    [Test]
    public void TruncatedImageIsRefused()
    {
        string image = Mutate("truncated", img =>
        {
            using var f = new FileStream(img, FileMode.Open, FileAccess.ReadWrite);
            f.SetLength(f.Length / 2);
        });
        AssertRefused(image, "truncated");
    }

    [Test]
    public void ImageShorterThanASuperblockIsRefused()
    {
        string image = Mutate("tiny", img =>
        {
            using var f = new FileStream(img, FileMode.Open, FileAccess.ReadWrite);
            f.SetLength(1536);
        });
        AssertRefused(image, string.Empty);
    }

    [Test]
    public void UnknownMountOptionIsRefusedByName()
    {
        TestEnvironment.RequireMountEnvironment();
        AssertRefused(_good, "bogus_option", "ro,bogus_option");
    }

    private string Mutate(string name, Action<string> change)
    {
        TestEnvironment.RequireMountEnvironment();
        string image = Path.Combine(_work, name + ".img");
        File.Copy(_good, image, overwrite: true);
        change(image);
        return image;
    }

    private static void Patch(string image, long offset, ReadOnlySpan<byte> bytes)
    {
        using var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        f.Write(bytes);
    }

    private void AssertRefused(string image, string reasonFragment, string options = "ro")
    {
        byte[] before = File.ReadAllBytes(image);
        using var activator = new SocketActivator(_work);
        CommandResult r = Mounts.TryMount(image, _work, options, activator);
        Assert.That(r.TimedOut, Is.False, $"mount hung: {r}");
        Assert.That(r.StdOut, Does.Contain("exit=32"), $"{r}\nservice log:\n{activator.Log}");
        string[] lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), $"expected one line on stderr: {r.StdErr}");
        Assert.That(lines[0], Does.StartWith("mount.safe.ext4: "), lines[0]);
        Assert.That(lines[0], Does.Contain(image).Or.Contain("/dev/loop"), "the message must name the device");
        Assert.That(lines[0], Does.Contain(reasonFragment).IgnoreCase, lines[0]);
        activator.AssertServicesExit(TimeSpan.FromSeconds(10));
        Assert.That(File.ReadAllBytes(image).AsSpan().SequenceEqual(before), "a refused mount changed the image");
    }
}
