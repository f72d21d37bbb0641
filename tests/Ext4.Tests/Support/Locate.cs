using System.Globalization;
using System.Text.RegularExpressions;

namespace Safemount.Ext4.Tests.Support;

/// <summary>Finds where debugfs says on-disk structures live, as byte offsets in the image.</summary>
internal static partial class Locate
{
    /// <summary>Byte offset of inode <paramref name="ino"/> (debugfs imap).</summary>
    public static long Inode(string image, uint ino, int blockSize)
    {
        var m = Imap().Match(Tool.Debugfs(image, $"imap <{ino}>"));
        Assert.That(m.Success, Is.True, "imap output");
        return (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * blockSize)
            + long.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>Physical block of logical block <paramref name="lblk"/> of <paramref name="path"/> (debugfs bmap).</summary>
    public static long Block(string image, string path, uint lblk) =>
        long.Parse(Tool.Debugfs(image, $"bmap {path} {lblk}").Trim(), CultureInfo.InvariantCulture);

    /// <summary>Physical blocks of the extent tree's index/leaf blocks (debugfs stat: "(ETBn):block").</summary>
    public static long[] ExtentTreeBlocks(string image, string path) =>
        [.. Etb().Matches(Tool.Debugfs(image, $"stat {path}")).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"located at block (\d+), offset 0x([0-9a-f]+)")]
    private static partial Regex Imap();

    [GeneratedRegex(@"\(ETB\d+\):(\d+)")]
    private static partial Regex Etb();
}
