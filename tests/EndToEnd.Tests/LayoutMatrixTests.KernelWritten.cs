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
        Assert.That(Regex.Matches(VariantImages.Debugfs(image, "stat /attrs/xattrs/big"), @"user\.v\d+ \(\d+\)").Count, Is.EqualTo(2));
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
}
