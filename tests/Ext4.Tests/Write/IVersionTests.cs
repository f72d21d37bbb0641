using System.Text.RegularExpressions;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// i_version (l_i_version | i_version_hi) through the engine, read back by debugfs ("Version:"):
/// the counts ext4 keeps (the kernel comparison is EndToEnd's IVersionAsTheKernel).
/// </summary>
[TestFixture]
public sealed class IVersionTests
{
    private static ulong DiskVersion(TestImage image, string path)
    {
        var m = Regex.Match(Tool.Debugfs(image.ImagePath, $"stat {path}"), @"Version: 0x([0-9a-f]+)(?::([0-9a-f]+))?");
        Assert.That(m.Success, Is.True, $"debugfs stat {path}");
        return m.Groups[2].Success
            ? (Convert.ToUInt64(m.Groups[1].Value, 16) << 32) | Convert.ToUInt64(m.Groups[2].Value, 16)
            : Convert.ToUInt64(m.Groups[1].Value, 16);
    }

    [TestCase("256-byte inodes", "-I", "256")]
    [TestCase("128-byte inodes", "-I", "128")]
    public void CountsAsExt4(string layout, params string[] mkfs)
    {
        using var image = TestImage.Build(_ => { }, "16M", mkfs);
        ulong rootBefore = DiskVersion(image, "/");
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            const uint root = InodeLayout.EXT4_ROOT_INO;
            Assert.That(v.Mkdir(root, "d"u8, 0x1ED, 0, 0, out var d), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(d!.Number, "f"u8, 0x1A4, 0, 0, out var f), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Link(f!.Number, d.Number, "g"u8, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Rename(d.Number, "g"u8, d.Number, "h"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Unlink(d.Number, "h"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetAttributes(f.Number, new Ext4AttributeChange { Mode = 0x180 }, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetAttributes(f.Number, new Ext4AttributeChange { Size = 10 }, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetAttributes(f.Number, new Ext4AttributeChange { Size = 10 }, out _), Is.EqualTo(Ext4Errno.None), "the same size: no count");
            Assert.That(v.SetAttributes(f.Number, new Ext4AttributeChange { Mtime = (5, 0), Ctime = (5, 0) }, out _), Is.EqualTo(Ext4Errno.None), "a writeback-cache time flush: no count");
            Assert.That(v.SetXattr(f.Number, "user.a", "1"u8, XattrSetFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetXattr(f.Number, "user.a", "1"u8, XattrSetFlags.None), Is.EqualTo(Ext4Errno.None), "nothing changes: no count");
            Assert.That(v.RemoveXattr(f.Number, "user.absent"), Is.EqualTo(Ext4Errno.ENODATA));
            Assert.That(v.WriteFile(f.Number, 0, "data"u8, out _), Is.EqualTo(Ext4Errno.None));
        }

        // f: 1 (new) + mode + size + xattr + write = 5; d: 1 (new) + f + g + rename (add, remove) + unlink = 6.
        Assert.That((DiskVersion(image, "/d/f"), DiskVersion(image, "/d"), DiskVersion(image, "/") - rootBefore), Is.EqualTo((5UL, 6UL, 1UL)), layout);
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }
}
