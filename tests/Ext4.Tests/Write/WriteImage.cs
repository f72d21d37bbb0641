using System.Globalization;
using System.Text.RegularExpressions;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// A scratch image for write tests: built by mkfs.ext4 with some empty files, opened
/// read-write, and checked afterwards with the oracles (e2fsck -fn, debugfs dump, dumpe2fs).
/// </summary>
internal sealed partial class WriteImage : IDisposable
{
    private WriteImage(TestImage image) => Image = image;

    public TestImage Image { get; }

    public string Path => Image.ImagePath;

    /// <summary>mkfs with <paramref name="mkfs"/> options and empty files /f0 .. /f{files-1}.</summary>
    public static WriteImage Build(string size, int files, params string[] mkfs) =>
        new(TestImage.Build(src =>
        {
            for (int i = 0; i < files; i++)
            {
                File.WriteAllBytes(System.IO.Path.Combine(src, $"f{i}"), []);
            }
        }, size, mkfs));

    /// <summary>Takes ownership of an image built some other way (e.g. with xattrs set on its source files).</summary>
    public static WriteImage Wrap(TestImage image) => new(image);

    public OpenedVolume Open() => Image.OpenWritable();

    public uint Ino(string path) =>
        uint.Parse(InodeLine().Match(Tool.Debugfs(Path, $"stat {path}")).Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>The file's bytes as debugfs reads them (its own ext2fs library, not our reader).</summary>
    public byte[] Dump(string path)
    {
        string target = Image.Scratch("dump.out");
        File.Delete(target);
        Tool.Check("debugfs", "-R", $"dump {path} {target}", Path);
        return File.ReadAllBytes(target);
    }

    /// <summary>e2fsck -fn must be clean, and dumpe2fs's superblock free counts must equal the sums of its group counts.</summary>
    public void AssertConsistent()
    {
        Assert.That(Tool.FsckClean(Path, out string output), Is.True, output);
        string dump = Tool.Check("dumpe2fs", Path);
        long sbBlocks = long.Parse(FreeBlocksHeader().Match(dump).Groups[1].Value, CultureInfo.InvariantCulture);
        long sbInodes = long.Parse(FreeInodesHeader().Match(dump).Groups[1].Value, CultureInfo.InvariantCulture);
        long groupBlocks = GroupFree().Matches(dump).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        long groupInodes = GroupFree().Matches(dump).Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.That(sbBlocks, Is.EqualTo(groupBlocks), "superblock free blocks == sum of the groups'");
        Assert.That(sbInodes, Is.EqualTo(groupInodes), "superblock free inodes == sum of the groups'");
    }

    /// <summary>dumpe2fs -h "Free blocks:".</summary>
    public long FreeBlocks() =>
        long.Parse(FreeBlocksHeader().Match(Tool.Check("dumpe2fs", "-h", Path)).Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>The leaf extents debugfs lists for <paramref name="path"/> (debugfs "ex": level lines with "Uninit" for unwritten).</summary>
    public List<(long Logical, long Length, bool Uninit)> Extents(string path)
    {
        var list = new List<(long, long, bool)>();
        string ex = Tool.Debugfs(Path, $"ex {path}");
        foreach (Match m in ExtentLine().Matches(ex))
        {
            if (m.Groups[1].Value != m.Groups[2].Value)
            {
                continue; // index lines: level != max level
            }

            list.Add((long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture), m.Groups[6].Value.Length > 0));
        }

        return list;
    }

    /// <summary>Depth of the extent tree (debugfs "ex" max level).</summary>
    public int ExtentDepth(string path)
    {
        var m = ExtentLine().Match(Tool.Debugfs(Path, $"ex {path}"));
        return m.Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
    }

    public void Dispose() => Image.Dispose();

    [GeneratedRegex(@"Inode: (\d+)")]
    private static partial Regex InodeLine();

    [GeneratedRegex(@"^Free blocks:\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex FreeBlocksHeader();

    [GeneratedRegex(@"^Free inodes:\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex FreeInodesHeader();

    [GeneratedRegex(@"\s(\d+) free (?:blocks|clusters), (\d+) free inodes")]
    private static partial Regex GroupFree();

    // " 1/ 1   1/  4     0 -    99  1234 -  1333    100 Uninit"
    [GeneratedRegex(@"^[ \t]*(\d+)/[ \t]*(\d+)[ \t]+\d+/[ \t]*\d+[ \t]+(\d+)[ \t]*-[ \t]*(\d+)[ \t]+\d+[ \t]*-[ \t]*\d+[ \t]+(\d+)[ \t]*(Uninit)?", RegexOptions.Multiline)]
    private static partial Regex ExtentLine();
}
