using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>Byte comparison of two images of one file system, with the superblock fields e2fsck rewrites masked.</summary>
internal static class ImageDiff
{
    /// <summary>
    /// Superblock bytes (offsets within the 1024-byte ext4 superblock) that e2fsck sets when it
    /// closes the file system after a journal-only run and that journal replay itself does not
    /// define: s_wtime (0x30) and s_wtime_hi (0x274) (ext2fs_flush stamps the write time),
    /// s_kbytes_written (0x178, 8 bytes; e2fsck adds its own I/O), and so s_checksum (0x3FC).
    /// </summary>
    private static readonly (int Offset, int Length)[] s_masked =
    [
        (0x30, 4), (0x274, 1), (0x178, 8), (0x3FC, 4),
    ];

    public static void AssertSameExceptSuperblockBookkeeping(string expectedPath, string actualPath, params (long Offset, int Length)[] alsoMasked) =>
        Assert.That(Differences(expectedPath, actualPath, alsoMasked), Is.Empty, "the engine's device replay differs from e2fsck -E journal_only");

    /// <summary>Up to 21 differing byte ranges outside the masked superblock fields and <paramref name="alsoMasked"/> (image offsets).</summary>
    public static List<string> Differences(string expectedPath, string actualPath, params (long Offset, int Length)[] alsoMasked)
    {
        var expected = File.ReadAllBytes(expectedPath);
        var actual = File.ReadAllBytes(actualPath);
        Assert.That(actual.Length, Is.EqualTo(expected.Length));
        var diffs = new List<string>();
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] == actual[i] || IsMasked(i) || alsoMasked.Any(m => i >= m.Offset && i < m.Offset + m.Length))
            {
                continue;
            }

            int start = i;
            while (i < expected.Length && expected[i] != actual[i])
            {
                i++;
            }

            diffs.Add($"bytes 0x{start:x}..0x{i - 1:x} (block {start / 1024} of 1k)");
            if (diffs.Count > 20)
            {
                break;
            }
        }

        return diffs;
    }

    private static bool IsMasked(int imageOffset)
    {
        int inSb = imageOffset - 1024;
        if (inSb < 0 || inSb >= 1024)
        {
            return false;
        }

        foreach (var (o, l) in s_masked)
        {
            if (inSb >= o && inSb < o + l)
            {
                return true;
            }
        }

        return false;
    }
}
