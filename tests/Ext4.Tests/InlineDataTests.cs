using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>inline_data files and directories, in i_block alone and spilling into system.data.</summary>
public class InlineDataTests
{
    [Test]
    public void FilesAndDirectoriesStoredInline([Values("metadata_csum", "^metadata_csum")] string csum)
    {
        var f100 = Enumerable.Range(0, 100).Select(i => (byte)(i * 3)).ToArray();
        using var image = TestImage.Build(src =>
        {
            File.WriteAllBytes(Path.Combine(src, "tiny"), "tiny"u8.ToArray());
            File.WriteAllBytes(Path.Combine(src, "f100"), f100);
            Directory.CreateDirectory(Path.Combine(src, "d1"));
            File.WriteAllText(Path.Combine(src, "d1", "x"), "1");
            Directory.CreateDirectory(Path.Combine(src, "d5"));
            for (int i = 0; i < 3; i++)
            {
                File.WriteAllText(Path.Combine(src, "d5", $"entry-{i}"), "e");
            }
        }, "16M", "-b", "4096", "-O", "inline_data," + csum);

        // mkfs turns a full inline directory into a block; the kernel first grows it into
        // system.data. Let the kernel add two entries.
        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("needs root to let the kernel grow an inline directory");
        }

        string mnt = image.Scratch("kmnt");
        Directory.CreateDirectory(mnt);
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o loop '{image.ImagePath}' '{mnt}' && touch '{mnt}/d5/entry-3' '{mnt}/d5/entry-4'; rc=$?; umount '{mnt}' 2>/dev/null; exit $rc"], 120);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);

        using var opened = image.Open();
        var v = opened.Volume;

        var tiny = PathWalk.Inode(v, "tiny");
        var f = PathWalk.Inode(v, "f100");
        var d1 = PathWalk.Inode(v, "d1");
        var d5 = PathWalk.Inode(v, "d5");
        Assert.Multiple(() =>
        {
            foreach (var i in new[] { tiny, f, d1, d5 })
            {
                Assert.That(i.HasFlag(InodeLayout.EXT4_INLINE_DATA_FL), Is.True, $"inode {i.Number} is inline");
                Assert.That(v.ListXattrNames(i), Does.Not.Contain("system.data"), "system.data stays hidden");
            }

            Assert.That(PathWalk.ReadAll(v, tiny), Is.EqualTo("tiny"u8.ToArray()));
            Assert.That(PathWalk.ReadAll(v, f), Is.EqualTo(f100), "60 bytes in i_block + 40 in system.data");
            Assert.That(PathWalk.ReadAll(v, f, chunk: 7), Is.EqualTo(f100));
            Assert.That(d5.Size, Is.GreaterThan(60), "d5's entries spill into system.data");
        });

        var listing = v.ReadDirectory(d5).Select(e => (Encoding.UTF8.GetString(e.Name), e.Inode)).ToList();
        Assert.That(listing.Select(e => e.Item1), Is.EquivalentTo(new[] { ".", ".." }.Concat(Enumerable.Range(0, 5).Select(i => $"entry-{i}"))));
        Assert.That(listing[0], Is.EqualTo((".", d5.Number)));
        Assert.That(listing[1], Is.EqualTo(("..", PathWalk.RootIno)));
        foreach (var (name, ino) in listing)
        {
            Assert.That(v.Lookup(d5, Encoding.UTF8.GetBytes(name)), Is.EqualTo(ino), name);
        }

        Assert.That(v.Lookup(d5, "entry-5"u8), Is.EqualTo(0u));
        Assert.That(PathWalk.Resolve(v, "d1/x"), Is.Not.EqualTo(0u));
        Assert.That(v.ReadDirectory(d1).Select(e => Encoding.UTF8.GetString(e.Name)), Is.EqualTo(new[] { ".", "..", "x" }));
    }
}
