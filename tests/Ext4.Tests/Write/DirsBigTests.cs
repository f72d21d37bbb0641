using System.Globalization;
using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Big directories built through the engine: the first block fills and becomes an htree, leaves
/// and index nodes split (a second index level with 1 KiB blocks). e2fsck -fn must be clean
/// (it checks the whole index), and every name must be found by the kernel's lookup (stat by
/// name through its htree) and by the engine's, before and after removing a share of them.
/// </summary>
public class DirsBigTests
{
    private static string Name(int i) => (i % 4) switch
    {
        0 => $"f{i}",
        1 => $"file-with-a-longer-name-{i:D6}",
        2 => $"caf\u00e9-{i}",
        _ => new string((char)('a' + (i % 26)), 60 + (i % 150)) + i.ToString(CultureInfo.InvariantCulture),
    };

    [TestCase(20_000, "-b", "1024", "-O", "metadata_csum", "-N", "40000", TestName = "OneKiBTwoLevels")]
    [TestCase(30_000, "-b", "4096", "-O", "^metadata_csum", "-N", "40000", TestName = "FourKiB")]
    [TestCase(12_000, "-b", "1024", "-O", "large_dir,metadata_csum", "-N", "20000", TestName = "LargeDir")]
    public void ManyNames(int count, params string[] mkfs)
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = TestImage.Build(_ => { }, "256M", mkfs);
        var inodes = new Dictionary<string, uint>();
        uint big;
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.Mkdir(InodeLayout.EXT4_ROOT_INO, "big"u8, 0x1ED, 0, 0, out var dir), Is.EqualTo(Ext4Errno.None));
            big = dir!.Number;
            for (int i = 0; i < count; i++)
            {
                string n = Name(i);
                var err = i % 10 == 9
                    ? v.Mkdir(big, Encoding.UTF8.GetBytes(n), 0x1ED, 0, 0, out var created)
                    : v.Create(big, Encoding.UTF8.GetBytes(n), 0x1A4, 0, 0, out created);
                Assert.That(err, Is.EqualTo(Ext4Errno.None), n);
                inodes[n] = created!.Number;
            }

            var d = v.ReadInode(big);
            Assert.That(d.HasFlag(InodeLayout.EXT4_INDEX_FL), Is.True, "the directory became indexed");
            Assert.That(d.LinksCount, Is.EqualTo(2 + (count / 10)));
            foreach (var (n, ino) in inodes)
            {
                Assert.That(v.Lookup(d, Encoding.UTF8.GetBytes(n)), Is.EqualTo(ino), n);
            }
        }

        AssertCleanAndKernelFinds(image, inodes);
        if (mkfs.Contains("1024"))
        {
            Assert.That(Tool.Debugfs(image.ImagePath, "htree /big"), Does.Contain("Indirect levels: 1").Or.Contain("Indirect levels: 2"));
        }

        // Remove two names in three (directories with rmdir), then add some back.
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            for (int i = 0; i < count; i++)
            {
                if (i % 3 == 0)
                {
                    continue;
                }

                string n = Name(i);
                var err = i % 10 == 9 ? v.Rmdir(big, Encoding.UTF8.GetBytes(n)) : v.Unlink(big, Encoding.UTF8.GetBytes(n));
                Assert.That(err, Is.EqualTo(Ext4Errno.None), n);
                inodes.Remove(n);
            }

            for (int i = count; i < count + 500; i++)
            {
                Assert.That(v.Create(big, Encoding.UTF8.GetBytes(Name(i)), 0x1A4, 0, 0, out var created), Is.EqualTo(Ext4Errno.None));
                inodes[Name(i)] = created!.Number;
            }
        }

        AssertCleanAndKernelFinds(image, inodes);
    }

    [Test]
    public void ThirdIndexLevelWithLargeDir()
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        // 255-byte names: three per 1 KiB leaf, so two index levels (123 x 126 leaves at most)
        // overflow and large_dir's third level is needed. Hard links to one inode keep it cheap.
        const int count = 48_000;
        using var image = TestImage.Build(_ => { }, "256M", "-b", "1024", "-I", "128", "-O", "large_dir,metadata_csum");
        var inodes = new Dictionary<string, uint>();
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.Mkdir(InodeLayout.EXT4_ROOT_INO, "big"u8, 0x1ED, 0, 0, out var dir), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(InodeLayout.EXT4_ROOT_INO, "target"u8, 0x1A4, 0, 0, out var target), Is.EqualTo(Ext4Errno.None));
            for (int i = 0; i < count; i++)
            {
                string n = i.ToString("D8", CultureInfo.InvariantCulture) + new string('z', 247);
                Assert.That(v.Link(target!.Number, dir!.Number, Encoding.ASCII.GetBytes(n), out _), Is.EqualTo(Ext4Errno.None), n);
                inodes[n] = target.Number;
            }
        }

        Assert.That(Tool.Debugfs(image.ImagePath, "htree /big"), Does.Contain("Indirect levels: 2"));
        AssertCleanAndKernelFinds(image, inodes);
    }

    private static void AssertCleanAndKernelFinds(TestImage image, Dictionary<string, uint> inodes)
    {
        Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);
        string list = image.Scratch("names");
        File.WriteAllText(list, string.Join('\n', inodes.Keys) + "\n", new UTF8Encoding(false));
        string got = DirsKernel.ReadOnly(image.ImagePath, image.Scratch("kmnt"),
            $"cd \"$M/big\" && xargs -d '\\n' -a '{list}' stat -c '%i %n' -- && ls -f | wc -l");
        var lines = got.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(int.Parse(lines[^1], CultureInfo.InvariantCulture), Is.EqualTo(inodes.Count + 2), "readdir sees exactly the names");
        var byKernel = lines[..^1].Select(l => l.Split(' ', 2)).ToDictionary(p => p[1], p => uint.Parse(p[0], CultureInfo.InvariantCulture));
        Assert.That(byKernel, Has.Count.EqualTo(inodes.Count));
        var wrong = inodes.Where(kv => !byKernel.TryGetValue(kv.Key, out uint k) || k != kv.Value).Select(kv => kv.Key).Take(5).ToList();
        Assert.That(wrong, Is.Empty, "the kernel's lookup finds every name at its inode");
    }
}
