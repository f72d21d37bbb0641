using System.Globalization;
using System.Text.RegularExpressions;
using Safemount.Ext4.Tests.Support;
using Safemount.Ext4.Tests.Write;

namespace Safemount.Ext4.Tests.Iomap;

/// <summary>
/// The oracle side of the iomap mapping tests: a sparse file laid out by mkfs.ext4 -d and
/// debugfs fallocate, and what debugfs says backs each of its logical blocks ("ex" for
/// extent-mapped files, "bmap" for block-mapped ones).
/// </summary>
internal static partial class IomapImage
{
    /// <summary>Blocks of /s: data 0-2, hole 3-9, data 10-11, hole 12-13, unwritten 14-17
    /// (debugfs fallocate; extent files only), hole 18-22, 100 bytes of data in block 23.</summary>
    public const int SparseBlocks = 24;

    public static WriteImage BuildSparse(int blockSize, bool extents, params string[] extra)
    {
        string[] mkfs = [.. new[] { "-b", blockSize.ToString(CultureInfo.InvariantCulture) }, .. (extents ? [] : new[] { "-O", "^extents,^flex_bg,^64bit,^metadata_csum" }), .. extra];
        var img = WriteImage.Wrap(TestImage.Build(src =>
        {
            var rng = new Random(11);
            using var f = File.Create(Path.Combine(src, "s"));
            f.Write(Bytes(rng, 3 * blockSize));
            f.Seek(10L * blockSize, SeekOrigin.Begin);
            f.Write(Bytes(rng, 2 * blockSize));
            f.Seek(23L * blockSize, SeekOrigin.Begin);
            f.Write(Bytes(rng, 100));
            File.WriteAllBytes(Path.Combine(src, "e"), []);
        }, "16M", mkfs));
        if (extents)
        {
            Tool.Check("debugfs", "-w", "-R", "fallocate /s 14 17", img.Path);
        }

        return img;
    }

    /// <summary>Per logical block of <paramref name="path"/> (0 .. <paramref name="blocks"/>−1):
    /// the physical block (0 = hole) and whether it is unwritten, and for extent files the
    /// extent index it belongs to (−1 for a hole, block-mapped files: −2).</summary>
    public static (long Physical, bool Uninit, int Extent)[] BlockTable(WriteImage img, string path, int blocks, bool extents)
    {
        var table = new (long Physical, bool Uninit, int Extent)[blocks];
        if (extents)
        {
            Array.Fill(table, (0L, false, -1));
            int index = 0;
            foreach (Match m in ExtentLine().Matches(Tool.Debugfs(img.Path, $"ex {path}")))
            {
                if (m.Groups[1].Value != m.Groups[2].Value)
                {
                    continue;
                }

                long logical = long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
                long physical = long.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
                long length = long.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture);
                for (long i = 0; i < length && logical + i < blocks; i++)
                {
                    table[logical + i] = (physical + i, m.Groups[6].Value.Length > 0, index);
                }

                index++;
            }

            return table;
        }

        for (int l = 0; l < blocks; l++)
        {
            string answer = Tool.Debugfs(img.Path, $"bmap {path} {l}").Trim();
            table[l] = (long.Parse(answer, CultureInfo.InvariantCulture), false, -2);
        }

        return table;
    }

    private static byte[] Bytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    // " 0/ 0   3/  4    14 -    17  1625 -  1628      4 Uninit": level/max, logical, physical, length.
    [GeneratedRegex(@"^[ \t]*(\d+)/[ \t]*(\d+)[ \t]+\d+/[ \t]*\d+[ \t]+(\d+)[ \t]*-[ \t]*\d+[ \t]+(\d+)[ \t]*-[ \t]*\d+[ \t]+(\d+)[ \t]*(Uninit)?", RegexOptions.Multiline)]
    private static partial Regex ExtentLine();
}
