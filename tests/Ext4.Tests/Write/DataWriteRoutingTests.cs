using System.Text;
using Safemount.Ext4.Storage;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// File data reaches the device only through <see cref="IWritableBlockDevice.WriteData"/>, the
/// entry point the service sends through O_DIRECT, and no block written that way is ever written
/// through <see cref="IWritableBlockDevice.Write"/> (metadata, journal, superblock) in the same
/// mount: data blocks never pass through the metadata cache or the journal (ordered mode). A
/// workload of file writes (aligned, unaligned, sparse, overwrites) mixed with creates and mkdirs
/// that frees nothing, so no block can legitimately change roles; e2fsck -fn and debugfs check
/// the result.
/// </summary>
public class DataWriteRoutingTests
{
    [TestCase("4k-journal", new[] { "-b", "4096", "-O", "has_journal,metadata_csum" })]
    [TestCase("1k-journal", new[] { "-b", "1024", "-O", "has_journal" })]
    [TestCase("ext3-blockmap", new[] { "-t", "ext3", "-b", "4096" })]
    public void FileDataGoesOnlyThroughWriteData(string name, string[] mkfs)
    {
        using var img = WriteImage.Build("64M", 4, mkfs);
        uint[] inos = Enumerable.Range(0, 4).Select(i => img.Ino($"/f{i}")).ToArray();
        var models = inos.Select(_ => new byte[0]).ToArray();
        var rng = new Random(8);
        long dataBytes;
        HashSet<long> data, other;
        using (var handle = File.OpenHandle(img.Path, FileMode.Open, FileAccess.ReadWrite))
        using (var file = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true))
        {
            int blockSize = BlockSizeOf(mkfs);
            var device = new DataRoutingDevice(file, blockSize);
            using (var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false }))
            {
                for (int round = 0; round < 40; round++)
                {
                    int f = rng.Next(inos.Length);
                    long offset = rng.Next(3) switch
                    {
                        0 => models[f].Length, // append
                        1 => rng.Next(models[f].Length + 1), // overwrite or extend
                        _ => models[f].Length + rng.Next(1, 200_000), // leave a hole
                    };
                    var chunk = new byte[rng.Next(2) == 0 ? 1 << 20 : rng.Next(1, 70_000)];
                    rng.NextBytes(chunk);
                    Assert.That(v.WriteFile(inos[f], offset, chunk, out int written), Is.EqualTo(Ext4Errno.None));
                    Assert.That(written, Is.EqualTo(chunk.Length));
                    if (offset + chunk.Length > models[f].Length)
                    {
                        Array.Resize(ref models[f], (int)(offset + chunk.Length));
                    }

                    chunk.CopyTo(models[f], offset);
                    Assert.That(v.Create(2, Encoding.ASCII.GetBytes($"n{round}"), 0x81A4, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
                    Assert.That(v.Mkdir(2, Encoding.ASCII.GetBytes($"d{round}"), 0x41ED, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
                    if (round % 10 == 9)
                    {
                        v.Sync();
                    }
                }
            }

            dataBytes = device.DataBytes;
            data = device.DataBlocks;
            other = device.OtherBlocks;
        }

        img.AssertConsistent();
        for (int i = 0; i < inos.Length; i++)
        {
            Assert.That(img.Dump($"/f{i}"), Is.EqualTo(models[i]), $"{name}: /f{i}");
        }

        Assert.Multiple(() =>
        {
            Assert.That(dataBytes, Is.GreaterThanOrEqualTo(models.Sum(m => (long)m.Length) / 2), "file data went through WriteData");
            Assert.That(other, Is.Not.Empty, "metadata went through Write");
            Assert.That(data.Intersect(other).Take(10), Is.Empty, "a block written as file data was also written as metadata or journal");
        });
    }

    private static int BlockSizeOf(string[] mkfs)
    {
        int i = Array.IndexOf(mkfs, "-b");
        return int.Parse(mkfs[i + 1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
