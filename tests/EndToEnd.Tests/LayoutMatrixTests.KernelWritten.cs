using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>What only the kernel writes (inode flags, EA-inode values, kernel-made ACLs), and
/// project ids, which this kernel (no CONFIG_QUOTA) cannot mount at all: debugfs is their oracle.</summary>
public sealed partial class LayoutMatrixTests
{
    [Test]
    public void KernelWrittenFlagsEaInodeValuesAndAclsMatchTheKernel()
    {
        TestEnvironment.RequireMountEnvironment();
        string image = VariantImages.KernelPopulated(_work, "kernel-attrs", "64M", ["-O", "ea_inode,orphan_file", "-I", "256"],
            "attrs", Path.Combine(TestEnvironment.ScriptsDir, "make-attrs.sh"));
        AssertFeatures(image, ["ea_inode", "orphan_file"]);
        string output = CompareWithKernel(image, "kernel-attrs");

        // The comparison is only as good as what it saw: flags and EA-inode values must be in it.
        string[] safe = File.ReadAllLines(Path.Combine(output, "safe.txt"));
        string Line(string path) => safe.Single(l => l.StartsWith($"path={path} ", StringComparison.Ordinal));
        Assert.That(Line("attrs/files/flag-i"), Does.Contain("flags=00080010").And.Contain("xflags=8 "));
        Assert.That(Line("attrs/files/flag-a"), Does.Contain("flags=00080020").And.Contain("xflags=10 "));
        Assert.That(Line("attrs/dirs/flag-P"), Does.Contain("xflags=200 "));
        Assert.That(Line("attrs/xattrs/big"), Does.Match(@"xattr:user\.v65536=[0-9a-f]{131072}( |$)"));
        Assert.That(Line("attrs/acls/file"), Does.Contain("xattr:system.posix_acl_access="));
        // 4-byte header + 500 named users + owner, group, mask, other, 8 bytes each, as the kernel returns it.
        Assert.That(Line("attrs/acls/many-entries"), Does.Match(@"xattr:system\.posix_acl_access=[0-9a-f]{" + ((4 + (504 * 8)) * 2) + "}( |$)"));
        Assert.That(Regex.Matches(VariantImages.Debugfs(image, "stat /attrs/xattrs/big"), @"user\.v\d+ \(\d+\)").Count, Is.EqualTo(2));
    }

    [TestCase("kernel-inline-data", "-O", "inline_data")]
    [TestCase("kernel-bigalloc-16k", "-O", "bigalloc", "-C", "16384")]
    [TestCase("kernel-b2048-i128-noflex", "-b", "2048", "-I", "128", "-O", "^flex_bg")]
    public void KernelWrittenVariantShowsWhatTheKernelShows(string name, params string[] mkfs)
    {
        // The kernel as writer: inline directories it grows and converts, clusters it allocates,
        // unwritten extents from fallocate, nanosecond times.
        TestEnvironment.RequireMountEnvironment();
        string image = VariantImages.KernelPopulated(_work, name, "128M", mkfs, "tree",
            Path.Combine(TestEnvironment.ScriptsDir, "make-tree.sh"), "32", "300", "0");
        CompareWithKernel(image, name);
    }

    [Test]
    public void ProjectIdsAndFlagsMatchDebugfs()
    {
        TestEnvironment.RequireMountEnvironment();
        string tree = Path.Combine(_work, "project.tree");
        Directory.CreateDirectory(Path.Combine(tree, "d"));
        File.WriteAllText(Path.Combine(tree, "a"), "a");
        File.WriteAllText(Path.Combine(tree, "d", "b"), "b");
        // debugfs sets what chattr -p/+P would: i_projid and EXT4_PROJINHERIT_FL (0x20000000).
        string after = "debugfs -w -R 'set_inode_field /a projid 42' \"$1\"; debugfs -w -R 'set_inode_field /d projid 2000000000' \"$1\"; " +
                       "debugfs -w -R 'set_inode_field /d flags 0x20080000' \"$1\"; debugfs -w -R 'set_inode_field /d/b projid 7' \"$1\"; " +
                       "debugfs -w -R 'set_inode_field /d/b flags 0x200800d0' \"$1\"";
        string image = VariantImages.FromTree(_work, "project", tree, "32M", ["-O", "project", "-I", "256"], after);
        AssertFeatures(image, ["project"]);

        string[] paths = [".", "a", "d", "d/b"];
        var expected = new List<string>();
        foreach (string p in paths)
        {
            string stat = VariantImages.Debugfs(image, "stat /" + (p == "." ? string.Empty : p));
            uint projid = uint.Parse(Regex.Match(stat, @"Project:\s+(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            uint flags = Convert.ToUInt32(Regex.Match(stat, @"Flags: 0x([0-9a-f]+)").Groups[1].Value, 16);
            bool regular = stat.Contains("Type: regular", StringComparison.Ordinal);
            // ext4_fileattr_get: EXT4_FL_USER_VISIBLE, PROJINHERIT hidden on regular files.
            uint visible = flags & 0x725BDFFF & (regular ? ~0x20000000u : ~0u);
            uint xflags = ((visible & 0x10) != 0 ? 0x8u : 0) | ((visible & 0x40) != 0 ? 0x80u : 0) | ((visible & 0x80) != 0 ? 0x40u : 0)
                | ((visible & 0x20000000) != 0 ? 0x200u : 0);
            expected.Add($"{p} projid={projid} xflags={xflags:x} flags={visible:x8}");
        }

        Assert.That(expected, Has.Some.Contains("projid=2000000000"), "debugfs set the ids");
        using var activator = new SocketActivator(_work);
        CommandResult r = Mounts.ProbeSafeOnly(image, _work, activator, [Path.Combine(TestEnvironment.ScriptsDir, "fileattr-probe.py"), .. paths]);
        Assert.That(r.ExitCode, Is.Zero, $"{r}\nservice log:\n{activator.Log}");
        Assert.That(r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(expected));
        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        TestImages.AssertClean(image);
    }

    [Test]
    public void DirNlinkOverflowShowsOneLinkLikeTheKernel()
    {
        // dir_nlink: past EXT4_LINK_MAX (65000) subdirectories the kernel stores i_links_count 1,
        // meaning "many", and reports st_nlink 1. Too large to walk twice with treedump: the
        // probe (lookups before readdir, then readdir counts) and statfs are the comparison.
        TestEnvironment.RequireMountEnvironment();
        string image = VariantImages.KernelPopulated(_work, "dir-nlink", "128M", ["-N", "70000"], "many",
            Path.Combine(TestEnvironment.ScriptsDir, "make-subdirs.py"), "65010");
        AssertFeatures(image, ["dir_nlink"]);
        string output = Path.Combine(_work, "dir-nlink.out");
        using var activator = new SocketActivator(_work);
        CommandResult r = Mounts.ProbeBothInNamespace(image, output, _work, activator,
            Path.Combine(TestEnvironment.ScriptsDir, "stat-probe.sh"), "many", "many/d00000", "many/d65009", ".");
        Assert.That(r.ExitCode, Is.Zero, $"compare-mounts.sh: {r}\nservice log:\n{activator.Log}");
        TreeDump.AssertSame(Path.Combine(output, "probe-kernel.txt"), Path.Combine(output, "probe-safe.txt"));
        string[] probe = File.ReadAllLines(Path.Combine(output, "probe-safe.txt"));
        Assert.That(probe[0], Does.StartWith("1 "), "the overflowed directory reports one link");
        Assert.That(probe, Does.Contain("many entries=65012"));
        Assert.That(File.ReadAllText(Path.Combine(output, "statfs-safe.txt")),
            Is.EqualTo(File.ReadAllText(Path.Combine(output, "statfs-kernel.txt"))), "statfs differs");
        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        TestImages.AssertClean(image);
    }
}
