using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// Every on-disk variant mkfs.ext4 1.47 and the kernel produce, each mounted by the kernel
/// (ro, loop) and by `mount -t safe.ext4` side by side and compared path by path with
/// treedump.py (lstat fields, btime, content, symlinks, xattrs and ACLs, readdir sets, inode
/// flags through FS_IOC_GETFLAGS and fsxattr through FS_IOC_FSGETXATTR) plus statfs. Where the
/// file system itself must walk an htree, lookup-probe.py looks every name up on the fresh mounts
/// before any readdir can fill the dentry cache.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class LayoutMatrixTests
{
    /// <summary>A fixed s_hash_seed, so signed and unsigned images of one algorithm differ only in signedness.</summary>
    private const string HashSeed = "6f1d3a52-2c44-4b1e-9f0a-7d5e8c3b2a10";

    private static readonly VariantLayout[] MkfsLayouts =
    [
        new("b1024", ["-b", "1024"], ["extent", "metadata_csum", "Block size:1024"]),
        new("b2048-i512", ["-b", "2048", "-I", "512"], ["extent", "extra_isize", "Block size:2048", "Inode size:512"]),
        new("b4096-i128", ["-b", "4096", "-I", "128"], ["extent", "Block size:4096", "Inode size:128"]),
        new("ext2-b2048-i128", ["-t", "ext2", "-b", "2048", "-I", "128"], ["ext_attr", "filetype", "^has_journal", "^extent", "Inode size:128"]),
        new("ext3-b2048", ["-t", "ext3", "-b", "2048"], ["has_journal", "dir_index", "^extent", "Block size:2048"]),
        new("noflex-32bit-nohuge-nonlink", ["-O", "^flex_bg,^64bit,^huge_file,^dir_nlink,^extra_isize"],
            ["extent", "metadata_csum", "^flex_bg", "^64bit", "^huge_file", "^dir_nlink", "^extra_isize"]),
        new("64bit-csum-seed-new-uuid", ["-O", "64bit,metadata_csum_seed"], ["64bit", "metadata_csum_seed"],
            "before=$(dumpe2fs -h \"$1\" 2>/dev/null | grep UUID); tune2fs -U random \"$1\" >/dev/null; test \"$before\" != \"$(dumpe2fs -h \"$1\" 2>/dev/null | grep UUID)\""),
        new("inline-data", ["-O", "inline_data"], ["inline_data"]),
        new("bigalloc-16k", ["-O", "bigalloc", "-C", "16384"], ["bigalloc"]),
        new("meta-bg-orphan-file", ["-O", "meta_bg,^resize_inode,orphan_file"], ["meta_bg", "orphan_file"]),
        new("sparse-super2", ["-O", "sparse_super2"], ["sparse_super2"]),
        new("b4096-i1024-nojournal", ["-b", "4096", "-I", "1024", "-O", "^has_journal"], ["extent", "^has_journal", "Inode size:1024"]),
        new("linear-dirs-nosparse", ["-O", "^dir_index,^sparse_super,^resize_inode"], ["extent", "^dir_index", "^sparse_super"]),
    ];

    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-variants-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => VariantImages.RemoveWorkDir(_work);

    [TestCaseSource(nameof(MkfsLayouts))]
    public void MkfsVariantShowsWhatTheKernelShows(VariantLayout layout)
    {
        TestEnvironment.RequireMountEnvironment();
        string image = VariantImages.FromTree(_work, layout.Name, VariantImages.SharedTree(_work), "128M", layout.MkfsArguments, layout.After);
        AssertFeatures(image, layout.ExpectedFeatures);
        CompareWithKernel(image, layout.Name);
    }

    [Test]
    public void HugeFileChangesNothingBelowTwoTerabytes()
    {
        // huge_file only changes i_blocks units for files with EXT4_HUGE_FILE_FL, which the
        // kernel sets once i_blocks exceeds 2^32 sectors (2 TiB allocated): out of reach of a
        // test image. With and without the feature, i_blocks must read the same for every file.
        TestEnvironment.RequireMountEnvironment();
        string tree = VariantImages.SharedTree(_work);
        string with = VariantImages.FromTree(_work, "huge-on", tree, "128M", ["-O", "huge_file"]);
        string without = VariantImages.FromTree(_work, "huge-off", tree, "128M", ["-O", "^huge_file"]);
        Assert.That(Features(with), Does.Contain("huge_file"));
        Assert.That(Features(without), Does.Not.Contain("huge_file"));
        string a = CompareWithKernel(with, "huge-on");
        string b = CompareWithKernel(without, "huge-off");
        static IEnumerable<string> Blocks(string dump) =>
            File.ReadAllLines(dump).Select(l => Regex.Match(l, @"^path=(\S+) .*? blocks=(\d+) ").Value);
        Assert.That(Blocks(Path.Combine(b, "safe.txt")), Is.EqualTo(Blocks(Path.Combine(a, "safe.txt"))));
    }

    [TestCase(4096)]
    [TestCase(1024)]
    public void HugeFileFlagCountsBlocksInFileSystemUnits(int blockSize)
    {
        // EXT4_HUGE_FILE_FL with huge_file: i_blocks counts file-system blocks, not 512-byte
        // sectors (ext4_inode_blocks). debugfs sets the flag and re-expresses i_blocks in block
        // units, which e2fsck accepts; the kernel must then report the same st_blocks as before.
        TestEnvironment.RequireMountEnvironment();
        string tree = Path.Combine(_work, "huge-flag.tree");
        Directory.CreateDirectory(tree);
        File.WriteAllBytes(Path.Combine(tree, "flagged"), new byte[32768].Select((_, i) => (byte)(i * 7)).ToArray());
        File.WriteAllBytes(Path.Combine(tree, "plain"), new byte[32768].Select((_, i) => (byte)(i * 5)).ToArray());
        string name = $"huge-flag-{blockSize}";
        string after = $"debugfs -w -R 'set_inode_field /flagged flags 0xc0000' \"$1\"; debugfs -w -R 'set_inode_field /flagged blocks {32768 / blockSize}' \"$1\"";
        string image = VariantImages.FromTree(_work, name, tree, "32M", ["-b", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "-O", "huge_file"], after);
        Assert.That(VariantImages.Debugfs(image, "stat /flagged"), Does.Contain("Flags: 0xc0000"));
        string output = CompareWithKernel(image, name);
        string[] safe = File.ReadAllLines(Path.Combine(output, "safe.txt"));
        Assert.That(safe.Single(l => l.StartsWith("path=flagged ", StringComparison.Ordinal)), Does.Contain(" blocks=64 "), "32 KiB in 512-byte units");
    }

    /// <summary>
    /// Checks the variant is really there: "name" must be among dumpe2fs's features, "^name" must
    /// not, and "Field:value" must be a header line of dumpe2fs -h.
    /// </summary>
    private static void AssertFeatures(string image, string[] expected)
    {
        string header = VariantImages.Header(image);
        string[] features = Features(image).Split(' ');
        foreach (string f in expected)
        {
            if (f.Contains(':', StringComparison.Ordinal))
            {
                string[] kv = f.Split(':', 2);
                Assert.That(header, Does.Match($@"(?m)^{Regex.Escape(kv[0])}:\s+{Regex.Escape(kv[1])}\s*$"), f);
            }
            else if (f.StartsWith('^'))
            {
                Assert.That(features, Does.Not.Contain(f[1..]), $"dumpe2fs features: {string.Join(' ', features)}");
            }
            else
            {
                Assert.That(features, Does.Contain(f), $"dumpe2fs features: {string.Join(' ', features)}");
            }
        }
    }

    private static string Features(string image) =>
        Regex.Match(VariantImages.Header(image), @"Filesystem features:\s+(.*)").Groups[1].Value.Trim();

    /// <summary>compare-mounts.sh with an optional probe; asserts identical dumps, statfs and
    /// probe output, that the service exits and that the image stays clean. Returns the output dir.</summary>
    private string CompareWithKernel(string image, string name, params string[] probe)
    {
        string output = Path.Combine(_work, name + ".out");
        using var activator = new SocketActivator(_work);
        CommandResult r = Mounts.CompareInNamespace(image, output, _work, "ro", activator, probe);
        Assert.That(r.ExitCode, Is.Zero, $"compare-mounts.sh: {r}\nservice log:\n{activator.Log}");
        TreeDump.AssertSame(Path.Combine(output, "kernel.txt"), Path.Combine(output, "safe.txt"));
        Assert.That(File.ReadAllText(Path.Combine(output, "statfs-safe.txt")),
            Is.EqualTo(File.ReadAllText(Path.Combine(output, "statfs-kernel.txt"))), "statfs differs");
        if (probe.Length > 0)
        {
            TreeDump.AssertSame(Path.Combine(output, "probe-kernel.txt"), Path.Combine(output, "probe-safe.txt"));
        }

        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        TestImages.AssertClean(image);
        return output;
    }
}
