using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// Image builders for the variant matrix. One source tree (make-tree.sh, small sizes) is built
/// once per work directory and turned into every mkfs variant; images the kernel must write are
/// populated through a kernel loop mount in a private namespace. Every image is checked with
/// `e2fsck -fn` before use.
/// </summary>
internal static class VariantImages
{
    /// <summary>make-tree.sh with 300 big-directory entries and no 5 GiB sparse file, built once.</summary>
    public static string SharedTree(string work)
    {
        string tree = Path.Combine(work, "shared.tree");
        if (!Directory.Exists(tree))
        {
            CommandResult r = Command.Run(Path.Combine(TestEnvironment.ScriptsDir, "make-tree.sh"), [tree, "31", "300", "0"], TimeSpan.FromMinutes(3));
            Assert.That(r.ExitCode, Is.Zero, $"make-tree.sh failed: {r}");
        }

        return tree;
    }

    /// <summary>`mkfs.ext4 -d TREE` with <paramref name="mkfs"/>, then <paramref name="after"/>
    /// (bash, image as $1), then `e2fsck -fyD` (indexes directories) and `e2fsck -fn`.</summary>
    public static string FromTree(string work, string name, string tree, string size, IEnumerable<string> mkfs, string after = "")
    {
        string image = Path.Combine(work, name + ".img");
        var args = new List<string> { "-q", "-F", "-d", tree, "-L", name };
        args.AddRange(mkfs);
        args.Add(image);
        args.Add(size);
        CommandResult r = Command.Run("mkfs.ext4", args, TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.Zero, $"mkfs.ext4 {string.Join(' ', args)} failed: {r}");
        RunAfter(image, after);
        r = Command.Run("timeout", ["120", "e2fsck", "-fyD", image], TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.AnyOf(0, 1), $"e2fsck -fyD failed: {r}");
        TestImages.AssertClean(image);
        return image;
    }

    /// <summary>mkfs.ext4 (empty), then `SCRIPT MNT/SUBDIR ARGS...` on a kernel rw loop mount.</summary>
    public static string KernelPopulated(string work, string name, string size, IEnumerable<string> mkfs, string subdir, string script, params string[] scriptArgs) =>
        KernelPopulatedAfter(work, name, size, mkfs, string.Empty, subdir, script, scriptArgs);

    /// <summary>As <see cref="KernelPopulated"/>, with <paramref name="after"/> (bash, image as $1)
    /// run between mkfs and the kernel mount.</summary>
    public static string KernelPopulatedAfter(string work, string name, string size, IEnumerable<string> mkfs, string after, string subdir, string script, params string[] scriptArgs)
    {
        string image = Path.Combine(work, name + ".img");
        var args = new List<string> { "-q", "-F", "-L", name };
        args.AddRange(mkfs);
        args.Add(image);
        args.Add(size);
        CommandResult r = Command.Run("mkfs.ext4", args, TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.Zero, $"mkfs.ext4 {string.Join(' ', args)} failed: {r}");
        RunAfter(image, after);

        string mnt = Path.Combine(work, name + ".kmnt");
        Directory.CreateDirectory(mnt);
        string bash = "set -e; img=$1; mnt=$2; s=$3; d=$2/$4; shift 4; mount -o loop \"$img\" \"$mnt\"; trap 'umount \"$mnt\"' EXIT; \"$s\" \"$d\" \"$@\"";
        r = Command.Run("unshare",
            ["-m", "--propagation", "private", "/bin/bash", "-c", bash, "populate", image, mnt, script, subdir, .. scriptArgs],
            TimeSpan.FromMinutes(5));
        Assert.That(r.ExitCode, Is.Zero, $"populating {image} through the kernel failed: {r}");
        TestImages.AssertClean(image);
        return image;
    }

    /// <summary>rm -rf: trees hold names that are not UTF-8, which Directory.Delete cannot enumerate.</summary>
    public static void RemoveWorkDir(string work)
    {
        if (work.Length > 0)
        {
            CommandResult r = Command.Run("rm", ["-rf", "--one-file-system", work], TimeSpan.FromMinutes(2));
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
        }
    }

    public static void RunAfter(string image, string after)
    {
        if (after.Length == 0)
        {
            return;
        }

        CommandResult r = Command.Run("/bin/bash", ["-c", "set -euo pipefail; " + after, "after", image], TimeSpan.FromMinutes(2));
        Assert.That(r.ExitCode, Is.Zero, $"{after}: {r}");
    }

    /// <summary>dumpe2fs -h of <paramref name="image"/>.</summary>
    public static string Header(string image)
    {
        CommandResult r = Command.Run("dumpe2fs", ["-h", image], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return r.StdOut;
    }

    /// <summary>The inode number of <paramref name="path"/> in <paramref name="image"/> (debugfs stat).</summary>
    public static uint InodeOf(string image, string path)
    {
        Match m = Regex.Match(Debugfs(image, $"stat {path}"), @"Inode: (\d+)");
        Assert.That(m.Success, Is.True, $"debugfs stat {path}");
        return uint.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>debugfs -R REQUEST IMAGE (read-only), stdout.</summary>
    public static string Debugfs(string image, string request)
    {
        CommandResult r = Command.Run("debugfs", ["-R", request, image], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return r.StdOut;
    }
}
