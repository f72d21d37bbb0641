using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Inline-data regular files become block files on their first change: the bytes move to a
/// block, system.data leaves the inode's xattr area (other in-inode xattrs survive), the
/// flags and i_block are rewritten; e2fsck, debugfs dump and debugfs ea_get are the oracles.
/// </summary>
public class InlineConversionTests
{
    [TestCase(0)]
    [TestCase(30)]
    [TestCase(60)]
    [TestCase(100)]
    public void WriteConvertsAndKeepsOtherXattrs(int initialSize)
    {
        var initial = new byte[initialSize];
        new Random(initialSize).NextBytes(initial);
        using var img = WriteImage.Wrap(TestImage.Build(src =>
        {
            string f = Path.Combine(src, "f");
            File.WriteAllBytes(f, initial);
            Tool.Check("setfattr", "-n", "user.before", "-v", "0x" + Convert.ToHexString(new byte[] { 1, 2, 3, 4, 5 }), f);
            Tool.Check("setfattr", "-n", "user.tag", "-v", "kept", f);
        }, "16M", "-O", "inline_data,metadata_csum", "-I", "512"));
        var image = img.Image;
        uint ino = img.Ino("/f");
        Assert.That(Tool.Debugfs(image.ImagePath, "stat /f"), Does.Contain("Size of inline data"), "mkfs made it inline");
        var append = new byte[5000];
        new Random(1).NextBytes(append);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.WriteFile(ino, initialSize, append, out int w), Is.EqualTo(Ext4Errno.None));
            Assert.That(w, Is.EqualTo(append.Length));
            var inode = v.ReadInode(ino);
            Assert.That(inode.HasInlineData, Is.False);
            Assert.That(v.GetXattr(inode, "user.tag"), Is.EqualTo("kept"u8.ToArray()));
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f"), Is.EqualTo(initial.Concat(append).ToArray()));
        Assert.That(Tool.Debugfs(image.ImagePath, "ea_get /f user.tag"), Does.Contain("kept"));
        Assert.That(Tool.Debugfs(image.ImagePath, "ea_get -x /f user.before"), Does.Contain("01 02 03 04 05"));
        Assert.That(Tool.Debugfs(image.ImagePath, "ea_list /f"), Does.Not.Contain("system.data"));
    }

    [Test]
    public void TruncateAndFallocateConvertToo()
    {
        var initial = new byte[50];
        new Random(2).NextBytes(initial);
        using var img = WriteImage.Wrap(TestImage.Build(src =>
        {
            File.WriteAllBytes(Path.Combine(src, "a"), initial);
            File.WriteAllBytes(Path.Combine(src, "b"), initial);
        }, "16M", "-O", "inline_data"));
        var image = img.Image;
        uint a = img.Ino("/a"), b = img.Ino("/b");
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.SetSize(a, 20), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Fallocate(b, 0, 0, 100_000), Is.EqualTo(Ext4Errno.None));
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/a"), Is.EqualTo(initial.AsSpan(0, 20).ToArray()));
        var expectB = new byte[100_000];
        initial.CopyTo(expectB, 0);
        Assert.That(img.Dump("/b"), Is.EqualTo(expectB));
    }
}
