using System.Buffers.Binary;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// statfs against the kernel when the superblock carries no s_overhead_clusters, so that both
/// sides compute the overhead from the layout (ext4_calculate_overhead).
/// </summary>
public class StatFsTests
{
    [Test]
    public void ComputedOverheadMatchesTheKernel(
        [Values("-b 4096", "-b 1024", "-t ext2 -b 4096", "-t ext3 -b 1024", "-b 1024 -O meta_bg,^resize_inode -g 2048", "-b 4096 -O ^64bit", "-b 4096 -O ^has_journal")] string options)
    {
        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("needs root to loop-mount the image");
        }

        using var image = TestImage.Build(src => File.WriteAllText(Path.Combine(src, "f"), "data"), "96M", options.Split(' '));
        var sb = image.ReadImage(SuperblockLayout.Offset, SuperblockLayout.Size);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(SuperblockLayout.s_overhead_clusters)), Is.Not.Zero, "mkfs records the overhead");
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(SuperblockLayout.s_overhead_clusters), 0);
        if ((BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(SuperblockLayout.s_feature_ro_compat)) & Ext4Features.RO_COMPAT_METADATA_CSUM) != 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(SuperblockLayout.s_checksum), Crc32c.Append(~0u, sb.AsSpan(0, SuperblockLayout.s_checksum)));
        }

        image.Patch(SuperblockLayout.Offset, sb);

        string mnt = image.Scratch("kmnt");
        Directory.CreateDirectory(mnt);
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o ro,loop '{image.ImagePath}' '{mnt}' && stat -f -c '%b %f %a %c %d' '{mnt}'; rc=$?; umount '{mnt}' 2>/dev/null; exit $rc"], 120);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        var k = r.Stdout.Trim().Split(' ').Select(ulong.Parse).ToArray();

        using var opened = image.Open();
        var s = opened.Volume.StatFs();
        Assert.That(new[] { s.Blocks, s.FreeBlocks, s.AvailableBlocks, s.Files, s.FreeFiles }, Is.EqualTo(k), "f_blocks f_bfree f_bavail f_files f_ffree");
    }
}
