using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Regression (found by DifferentialWriteTests seed 1): a punched or zeroed range inside one block
/// that starts on the block boundary must read back as zeros, as ext4_zero_partial_blocks does.
/// </summary>
[TestFixture]
public sealed class PunchEdgeTests
{
    private const int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;

    [TestCase(1024, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 11264, 112)]   // aligned start, same block
    [TestCase(1024, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 11300, 50)]    // unaligned, same block
    [TestCase(1024, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 11300, 3000)]  // both edges, whole blocks between
    [TestCase(4096, FALLOC_FL_ZERO_RANGE, 8192, 112)]
    [TestCase(4096, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 8200, 4096)]
    public void PartialBlockRangesReadBackAsZeros(int blockSize, int mode, int offset, int length)
    {
        using var image = TestImage.Build(_ => { }, "16M", "-b", blockSize.ToString(), "-O", "metadata_csum");
        byte[] data = new byte[23551];
        new Random(offset + length).NextBytes(data);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.Create(2, "f"u8, 0x1A4, 0, 0, out var f), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.WriteFile(f!.Number, 0, data, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Fallocate(f.Number, mode, offset, length), Is.EqualTo(Ext4Errno.None));
            Array.Clear(data, offset, length);
            var back = new byte[data.Length];
            Assert.That(v.ReadFile(f.Number, 0, back), Is.EqualTo(data.Length));
            Assert.That(back, Is.EqualTo(data));
        }

        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
        string dumped = image.Scratch("dumped");
        Tool.Check("debugfs", "-R", $"dump /f {dumped}", image.ImagePath);
        Assert.That(File.ReadAllBytes(dumped), Is.EqualTo(data), "debugfs reads the same bytes");
    }
}
