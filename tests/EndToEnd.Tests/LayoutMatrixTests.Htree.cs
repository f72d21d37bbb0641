using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>Htree variants: every hash algorithm in its signed and unsigned form, and a
/// three-level (large_dir) index.</summary>
public sealed partial class LayoutMatrixTests
{
    [TestCase("legacy", 0)]
    [TestCase("half_md4", 1)]
    [TestCase("tea", 2)]
    public void HtreeHashSignedAndUnsignedLookUpLikeTheKernel(string algorithm, int version)
    {
        TestEnvironment.RequireMountEnvironment();
        string tree = Path.Combine(_work, "hash.tree");
        string names = Path.Combine(_work, "hash.names");
        if (!Directory.Exists(tree))
        {
            // 1500 names of 60 bytes with bytes >= 0x80: an indexed directory of ~25 leaf blocks.
            CommandResult mk = Command.Run(Path.Combine(TestEnvironment.ScriptsDir, "make-names.py"),
                [Path.Combine(tree, "big"), "1500", "60", names, "--high-bytes"], TimeSpan.FromMinutes(2));
            Assert.That(mk.ExitCode, Is.Zero, mk.ToString());
        }

        var dumps = new List<string>();
        foreach (bool unsigned in new[] { false, true })
        {
            string name = $"hash-{algorithm}-{(unsigned ? "unsigned" : "signed")}";
            // s_flags: EXT2_FLAGS_SIGNED_HASH 0x1, EXT2_FLAGS_UNSIGNED_HASH 0x2; e2fsck -D then
            // rebuilds the index with that hash.
            // (mkfs.ext4 has no hash_alg option; s_def_hash_version is set like tune2fs -E hash_alg would.)
            string after = $"debugfs -w -R 'ssv def_hash_version {algorithm}' \"$1\"; debugfs -w -R 'ssv hash_seed {HashSeed}' \"$1\"; " +
                           $"debugfs -w -R 'ssv flags {(unsigned ? 2 : 1)}' \"$1\"";
            string image = VariantImages.FromTree(_work, name, tree, "32M", ["-b", "1024"], after);
            string header = VariantImages.Header(image);
            Assert.That(header, Does.Contain(unsigned ? "unsigned_directory_hash" : "signed_directory_hash"));
            string htree = VariantImages.Debugfs(image, "htree /big");
            Assert.That(htree, Does.Contain($"Hash Version: {version}"), htree[..Math.Min(400, htree.Length)]);
            dumps.Add(Regex.Replace(htree, @"Checksum: 0x[0-9a-f]+", string.Empty));
            CompareWithKernel(image, name, Path.Combine(TestEnvironment.ScriptsDir, "lookup-probe.py"), "big", names);
            AssertProbeFoundAll(name, 1500);
        }

        Assert.That(dumps[1], Is.Not.EqualTo(dumps[0]), "the high-bit names must hash differently signed and unsigned");
    }

    [TestCase("legacy", 0)]
    [TestCase("half_md4", 1)]
    [TestCase("tea", 2)]
    public void KernelBuiltUnsignedHtreeLooksUpLikeTheKernel(string algorithm, int version)
    {
        // The kernel itself inserting high-bit names into an indexed directory of a file system
        // flagged EXT2_FLAGS_UNSIGNED_HASH (it then hashes with version + 3, the unsigned form).
        TestEnvironment.RequireMountEnvironment();
        string name = $"kernel-hash-{algorithm}-unsigned";
        string names = Path.Combine(_work, name + ".names");
        string after = $"debugfs -w -R 'ssv def_hash_version {algorithm}' \"$1\"; debugfs -w -R 'ssv flags 2' \"$1\"";
        string image = VariantImages.KernelPopulatedAfter(_work, name, "32M", ["-b", "1024"], after,
            "big", Path.Combine(TestEnvironment.ScriptsDir, "make-names.py"), "1500", "60", names, "--high-bytes");
        Assert.That(VariantImages.Header(image), Does.Contain("unsigned_directory_hash"));
        string htree = VariantImages.Debugfs(image, "htree /big");
        Assert.That(htree, Does.Contain($"Hash Version: {version}"), htree[..Math.Min(400, htree.Length)]);
        CompareWithKernel(image, name, Path.Combine(TestEnvironment.ScriptsDir, "lookup-probe.py"), "big", names);
        AssertProbeFoundAll(name, 1500);
    }

    [Test]
    public void LargeDirThreeLevelHtreeLooksUpLikeTheKernel()
    {
        TestEnvironment.RequireMountEnvironment();
        // 1 KiB blocks and 250-byte names: ~3 entries per leaf, 123 x 126 leaves in two levels,
        // so 33000 kernel-inserted names need a third level (large_dir).
        string names = Path.Combine(_work, "large-dir.names");
        string image = VariantImages.KernelPopulated(_work, "large-dir", "96M", ["-b", "1024", "-O", "large_dir", "-N", "40000"],
            "big", Path.Combine(TestEnvironment.ScriptsDir, "make-names.py"), "33000", "250", names);
        string htree = VariantImages.Debugfs(image, "htree /big");
        Assert.That(htree, Does.Contain("Indirect levels: 2"), "a three-level htree");
        CompareWithKernel(image, "large-dir", Path.Combine(TestEnvironment.ScriptsDir, "lookup-probe.py"), "big", names);
        AssertProbeFoundAll("large-dir", 33000);
    }

    private void AssertProbeFoundAll(string name, int count)
    {
        string last = File.ReadLines(Path.Combine(_work, name + ".out", "probe-safe.txt")).Last();
        Assert.That(last, Is.EqualTo($"summary found={count} missing=0"));
    }
}
