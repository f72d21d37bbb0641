using System.Globalization;
using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// dir_nlink: an indexed directory past EXT4_LINK_MAX (65000) subdirectories keeps i_links_count
/// 1 ("many") as ext4_inc_count does, and stays so as subdirectories go (ext4_dec_count).
/// e2fsck -fn accepts it and the kernel reports 1 link.
/// </summary>
public class DirsNlinkTests
{
    [Test]
    public void PastLinkMaxTheCountBecomesOne()
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        const int subdirs = Ext4Volume.EXT4_LINK_MAX + 2;
        using var image = TestImage.Build(_ => { }, "200M", "-b", "1024", "-I", "128", "-N", "70000", "-O", "^metadata_csum,dir_nlink");
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.Mkdir(InodeLayout.EXT4_ROOT_INO, "many"u8, 0x1ED, 0, 0, out var many), Is.EqualTo(Ext4Errno.None));
            for (int i = 0; i < subdirs; i++)
            {
                Assert.That(v.Mkdir(many!.Number, Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture)), 0x1ED, 0, 0, out _), Is.EqualTo(Ext4Errno.None), $"subdir {i}");
                if (i == Ext4Volume.EXT4_LINK_MAX - 3)
                {
                    Assert.That(v.ReadInode(many.Number).LinksCount, Is.EqualTo(Ext4Volume.EXT4_LINK_MAX), "2 + subdirectories up to the limit");
                }
            }

            Assert.That(v.ReadInode(many!.Number).LinksCount, Is.EqualTo(1));
            Assert.That(v.Rmdir(many.Number, "7"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(many.Number).LinksCount, Is.EqualTo(1), "stays 'many' as subdirectories go");
        }

        Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);
        string got = DirsKernel.ReadOnly(image.ImagePath, image.Scratch("kmnt"), "stat -c %h \"$M/many\"; ls \"$M/many\" | wc -l");
        Assert.That(got.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "1", (subdirs - 1).ToString(CultureInfo.InvariantCulture) }));
    }
}
