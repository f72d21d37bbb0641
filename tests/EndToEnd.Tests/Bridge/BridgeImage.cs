using NUnit.Framework;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>Images for the bridge tests: mkfs.ext4 -d of a tree of the given files.</summary>
internal static class BridgeImage
{
    /// <summary>
    /// Writes <paramref name="files"/> (name, bytes) into WORK/tree and makes WORK/img of
    /// <paramref name="size"/> from it with <c>mkfs.ext4 -q -F OPTIONS -d WORK/tree</c>; returns the
    /// image's path.
    /// </summary>
    public static string Make(string work, string size, IEnumerable<(string Name, byte[] Data)> files, params string[] mkfsOptions)
    {
        string tree = Path.Combine(work, "tree");
        Directory.CreateDirectory(tree);
        foreach (var (name, data) in files)
        {
            File.WriteAllBytes(Path.Combine(tree, name), data);
        }

        string image = Path.Combine(work, "img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", .. mkfsOptions, "-d", tree, image, size], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return image;
    }
}
