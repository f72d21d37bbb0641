using System.Text.RegularExpressions;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Directory edits on corrupt directories end in a typed error before anything is changed: a
/// leaf whose checksum no longer matches (the editor must not launder it with a fresh one), a
/// record whose rec_len overruns, an htree whose count exceeds its limit.
/// </summary>
public class DirsCorruptionTests
{
    private static TestImage Build(params string[] mkfs) => TestImage.Build(src =>
    {
        Directory.CreateDirectory(Path.Combine(src, "d"));
        for (int i = 0; i < 8; i++)
        {
            File.WriteAllText(Path.Combine(src, "d", $"file{i}"), "x");
        }
    }, "16M", mkfs);

    private static long FirstBlockOffset(TestImage image, string path, uint blockSize)
    {
        string blocks = Tool.Debugfs(image.ImagePath, $"blocks {path}");
        return long.Parse(Regex.Match(blocks, @"\d+").Value, System.Globalization.CultureInfo.InvariantCulture) * blockSize;
    }

    [Test]
    public void ChecksumMismatchIsNotLaundered()
    {
        using var image = Build("-b", "1024", "-O", "metadata_csum");
        long at = FirstBlockOffset(image, "/d", 1024);
        byte[] leaf = image.ReadImage(at, 1024);
        leaf[30] ^= 0x20; // a name byte of an early record
        image.Patch(at, leaf);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            uint d = PathWalk.Inode(v, "d").Number;
            Assert.Throws<Ext4ChecksumException>(() => v.Create(d, "new"u8, 0x1A4, 0, 0, out _));
            Assert.Throws<Ext4ChecksumException>(() => v.Rename(d, "file7"u8, InodeLayout.EXT4_ROOT_INO, "out"u8, RenameFlags.None));
        }

        Assert.That(image.ReadImage(at, 1024), Is.EqualTo(leaf), "the corrupt block was not rewritten");
    }

    [Test]
    public void OverrunningRecordIsCorruption()
    {
        using var image = Build("-b", "1024", "-O", "^metadata_csum");
        long at = FirstBlockOffset(image, "/d", 1024);
        byte[] leaf = image.ReadImage(at, 1024);
        leaf[12 + 4] = 0xF0; // ".." rec_len low byte: 0x3F0 + ... runs past the block
        leaf[12 + 5] = 0x7F;
        image.Patch(at, leaf);
        using var opened = image.OpenWritable();
        var v = opened.Volume;
        uint d = PathWalk.Inode(v, "d").Number;
        Assert.Throws<Ext4CorruptionException>(() => v.Create(d, "new"u8, 0x1A4, 0, 0, out _));
        Assert.Throws<Ext4CorruptionException>(() => v.Mkdir(d, "newdir"u8, 0x1ED, 0, 0, out _));
    }

    [Test]
    public void HtreeCountBeyondLimitIsCorruption()
    {
        using var image = TestImage.Build(src =>
        {
            Directory.CreateDirectory(Path.Combine(src, "d"));
            for (int i = 0; i < 400; i++)
            {
                File.WriteAllText(Path.Combine(src, "d", $"a-file-name-of-some-length-{i}"), "x");
            }
        }, "16M", "-b", "1024", "-O", "^metadata_csum");
        var r = Tool.Run("timeout", ["120", "e2fsck", "-fyD", image.ImagePath], 150);
        Assert.That(r.ExitCode, Is.LessThanOrEqualTo(1), r.Stdout);
        long at = FirstBlockOffset(image, "/d", 1024);
        byte[] root = image.ReadImage(at, 1024);
        root[0x20 + 2] = 0xFF; // dx_root count
        root[0x20 + 3] = 0x0F;
        image.Patch(at, root);
        using var opened = image.OpenWritable();
        var v = opened.Volume;
        uint d = PathWalk.Inode(v, "d").Number;
        Assert.That(v.ReadInode(d).HasFlag(InodeLayout.EXT4_INDEX_FL), Is.True);
        Assert.Throws<Ext4CorruptionException>(() => v.Create(d, "new"u8, 0x1A4, 0, 0, out _));
    }
}
