using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// Builds test images from scripts (never committed blobs): make-tree.sh populates a directory,
/// `mkfs.ext4 -d` turns it into an image of the requested layout, and `e2fsck -fyD` indexes
/// the big directories into htrees. Each image is checked with `e2fsck -fn` before use.
/// </summary>
internal static class TestImages
{
    public static string Build(string workDir, ImageLayout layout)
    {
        string tree = Path.Combine(workDir, layout.Name + ".tree");
        string image = Path.Combine(workDir, layout.Name + ".img");
        if (File.Exists(image))
        {
            return image;
        }

        if (layout.KernelWritten)
        {
            return BuildWithKernel(workDir, layout, image);
        }

        CommandResult r = Command.Run(Path.Combine(TestEnvironment.ScriptsDir, "make-tree.sh"),
            [tree, layout.Seed.ToString(), layout.BigDirEntries.ToString(), layout.Sparse5G ? "1" : "0"],
            TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.Zero, $"make-tree.sh failed: {r}");

        var args = new List<string> { "-q", "-F", "-d", tree, "-L", layout.Name };
        args.AddRange(layout.MkfsArguments);
        args.Add(image);
        args.Add(layout.Size);
        r = Command.Run("mkfs.ext4", args, TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.Zero, $"mkfs.ext4 {string.Join(' ', args)} failed: {r}");

        // -D optimises (and indexes) directories; exit 1 means "changes made", which is the point.
        r = Command.Run("timeout", ["120", "e2fsck", "-fyD", image], TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.AnyOf(0, 1), $"e2fsck -fyD failed: {r}");
        AssertClean(image);
        Directory.Delete(tree, recursive: true);
        return image;
    }

    private static string BuildWithKernel(string workDir, ImageLayout layout, string image)
    {
        var args = new List<string> { "-q", "-F", "-L", layout.Name };
        args.AddRange(layout.MkfsArguments);
        args.Add(image);
        args.Add(layout.Size);
        CommandResult r = Command.Run("mkfs.ext4", args, TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.Zero, $"mkfs.ext4 {string.Join(' ', args)} failed: {r}");

        string mnt = Path.Combine(workDir, layout.Name + ".kmnt");
        Directory.CreateDirectory(mnt);
        string script =
            "set -e; mount -o loop \"$1\" \"$2\"; trap 'umount \"$2\"' EXIT; " +
            "\"$3\" \"$2/tree\" \"$4\" \"$5\" \"$6\"";
        r = Command.Run("unshare",
            ["-m", "--propagation", "private", "/bin/bash", "-c", script, "populate", image, mnt,
             Path.Combine(TestEnvironment.ScriptsDir, "make-tree.sh"), layout.Seed.ToString(),
             layout.BigDirEntries.ToString(), layout.Sparse5G ? "1" : "0"],
            TimeSpan.FromMinutes(5));
        Assert.That(r.ExitCode, Is.Zero, $"populating {image} through the kernel failed: {r}");
        AssertClean(image);
        return image;
    }

    /// <summary>`e2fsck -fn` must call the image clean (exit 0).</summary>
    public static void AssertClean(string image)
    {
        CommandResult r = Command.Run("timeout", ["120", "e2fsck", "-fn", image], TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.Zero, $"e2fsck -fn {image}: {r}");
    }
}
