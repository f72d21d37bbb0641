using NUnit.Framework;

namespace Safemount.EndToEnd.Tests.Differential;

/// <summary>
/// Builds one differential image with the kernel as the writer: mkfs.ext4 (and tune2fs) of the
/// seed's layout, a rw loop mount in a private mount namespace, difftest-populate.py on it,
/// umount, and `e2fsck -fn`, which must find what the kernel wrote clean.
/// </summary>
internal static class DiffImage
{
    public static string Build(string dir, int seed, DiffLayout layout)
    {
        string image = Path.Combine(dir, $"seed-{seed}.img");
        List<string> mkfs = layout.MkfsArguments(image);
        CommandResult r = Command.Run("mkfs.ext4", mkfs, TimeSpan.FromMinutes(2));
        Assert.That(r.ExitCode, Is.Zero, $"mkfs.ext4 {string.Join(' ', mkfs)}: {r}");
        if (layout.Tune2fs.Length > 0)
        {
            r = Command.Run("tune2fs", [.. layout.Tune2fs, image], TimeSpan.FromMinutes(1));
            Assert.That(r.ExitCode, Is.Zero, $"tune2fs {string.Join(' ', layout.Tune2fs)}: {r}");
        }

        string mnt = Path.Combine(dir, "kernel-rw");
        Directory.CreateDirectory(mnt);
        // The EXIT trap unmounts even when the workload fails; the namespace takes the mount (and
        // its loop device) with it if this shell is killed.
        const string script =
            "set -e; mount -o loop \"$1\" \"$2\"; trap 'umount \"$2\"' EXIT; python3 \"$3\" populate \"$2\" \"$4\"";
        r = Command.Run("unshare",
            ["-m", "--propagation", "private", "/bin/bash", "-c", script, "difftest", image, mnt,
             DiffLayout.PopulateScript, seed.ToString()],
            TimeSpan.FromMinutes(5));
        Assert.That(r.ExitCode, Is.Zero, $"populating seed {seed} through the kernel failed: {r}");
        TestContext.Out.WriteLine(r.StdOut.TrimEnd());
        TestImages.AssertClean(image);
        return image;
    }
}
