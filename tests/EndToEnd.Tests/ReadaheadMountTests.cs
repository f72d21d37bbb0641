using System.Security.Cryptography;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The helper gives a fuseblk mount its device's readahead window (issue 8, cold sequential
/// read): the bdi "MAJ:MIN-fuseblk" of a real mount through mount(8) reads back the device's
/// read_ahead_kb, set by the test to a value that is neither the FUSE default (128) nor a loop
/// device's default; for a partition it is the disk's. With /sys read-only the mount still
/// succeeds at the FUSE default and -v says why. Every case reads a file cold through the mount
/// and compares it with the bytes the image was made from.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ReadaheadMountTests
{
    private const long PartitionStartBytes = 1 << 20;
    private const long FileSystemBytes = 64 << 20;

    private string _work = string.Empty;
    private string _payloadHash = string.Empty;
    private string _tree = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir()
    {
        _work = Directory.CreateTempSubdirectory("safemount-ra-").FullName;
        _tree = Path.Combine(_work, "tree");
        Directory.CreateDirectory(_tree);
        byte[] payload = new byte[12 << 20];
        new Random(8).NextBytes(payload);
        File.WriteAllBytes(Path.Combine(_tree, "payload"), payload);
        _payloadHash = Convert.ToHexStringLower(SHA256.HashData(payload));
    }

    [OneTimeTearDown]
    public void RemoveWorkDir() => Directory.Delete(_work, recursive: true);

    [Test]
    public void BlockDeviceWindowIsCopiedToTheFuseBdi()
    {
        TestEnvironment.RequireMountEnvironment();
        Dictionary<string, string> values = Probe("device", WholeImage("device.img"), 1536, out string output);
        Assert.Multiple(() =>
        {
            Assert.That(values["device_ra"], Is.EqualTo("1536"), output);
            Assert.That(values["fuse_ra"], Is.EqualTo("1536"), "the mount reads ahead as far as the device; " + output);
            Assert.That(output, Does.Match(@"readahead: 1536 KiB from /sys/dev/block/7:\d+/queue/read_ahead_kb set on bdi 7:\d+-fuseblk"), output);
            Assert.That(values["hash"], Is.EqualTo(_payloadHash), "cold read through the mount; " + output);
        });
    }

    [Test]
    public void PartitionGetsItsDisksWindow()
    {
        TestEnvironment.RequireMountEnvironment();
        string image = Path.Combine(_work, "part.img");
        using (FileStream f = File.Create(image))
        {
            f.SetLength(PartitionStartBytes + FileSystemBytes + (1 << 20));
        }

        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", "-b", "4096", "-E", $"offset={PartitionStartBytes}", "-d", _tree, image, $"{FileSystemBytes >> 10}k"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());

        Dictionary<string, string> values = Probe("partition", image, 1792, out string output, PartitionStartBytes / 512, FileSystemBytes / 512);
        Assert.Multiple(() =>
        {
            Assert.That(values["device_ra"], Is.EqualTo("1792"), output);
            Assert.That(values["fuse_ra"], Is.EqualTo("1792"), "a partition reads ahead as its disk does; " + output);
            Assert.That(output, Does.Match(@"readahead: 1792 KiB from /sys/devices/\S+/loop\d+/queue/read_ahead_kb set on bdi 259:\d+-fuseblk"), output);
            Assert.That(values["hash"], Is.EqualTo(_payloadHash), "cold read through the mount; " + output);
        });
    }

    [Test]
    public void ReadOnlySysfsLeavesTheDefaultAndMounts()
    {
        TestEnvironment.RequireMountEnvironment();
        Dictionary<string, string> values = Probe("rosys", WholeImage("rosys.img"), 1536, out string output);
        Assert.Multiple(() =>
        {
            Assert.That(values["fuse_ra"], Is.EqualTo("128"), "FUSE's default window stays; " + output);
            Assert.That(output, Does.Contain("readahead: left at the FUSE default (128 KiB): "), output);
            Assert.That(values["hash"], Is.EqualTo(_payloadHash), "cold read through the mount; " + output);
        });
    }

    private string WholeImage(string name)
    {
        string image = Path.Combine(_work, name);
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", "-b", "4096", "-d", _tree, image, $"{FileSystemBytes >> 10}k"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return image;
    }

    /// <summary>Runs scripts/readahead-probe.sh in a private mount namespace; its key=value lines, the whole output in <paramref name="output"/>; the image e2fsck-clean afterwards (the mount was read-write).</summary>
    private Dictionary<string, string> Probe(string mode, string image, int readaheadKib, out string output, params long[] partition)
    {
        CommandResult r;
        using (var activator = new SocketActivator(_work))
        {
            r = Command.Run("unshare",
                ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "readahead-probe.sh"),
                 mode, image, Path.Combine(_work, "mnt"), Mounts.HelperDir(_work), readaheadKib.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 .. partition.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))],
                TimeSpan.FromMinutes(3), activator.HelperEnvironment);
            output = $"{r}\nservice log:\n{activator.Log}";
            Assert.That(r.ExitCode, Is.Zero, output);
            activator.AssertServicesExit(TimeSpan.FromSeconds(30));
        }

        if (mode == "partition")
        {
            TestImages.AssertClean($"{image}?offset={PartitionStartBytes}");
        }
        else
        {
            TestImages.AssertClean(image);
        }

        return (r.StdOut + "\n" + r.StdErr).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.Contains(' ', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    }
}
