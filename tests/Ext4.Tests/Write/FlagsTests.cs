using System.Text.RegularExpressions;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>chattr through the engine (ext4_ioctl_setflags) and immutable/append-only enforcement; debugfs and e2fsck as oracles.</summary>
[TestFixture]
public sealed class FlagsTests
{
    private const uint NODUMP = 0x40, NOATIME = 0x80, SYNC = 0x08, DIRSYNC = 0x10000;

    private static uint Ino(TestImage image, string path) =>
        uint.Parse(Regex.Match(Tool.Debugfs(image.ImagePath, $"stat {path}"), @"Inode: (\d+)").Groups[1].Value);

    private static uint DiskFlags(TestImage image, uint ino) =>
        Convert.ToUInt32(Regex.Match(Tool.Debugfs(image.ImagePath, $"stat <{ino}>"), @"Flags: 0x([0-9a-f]+)").Groups[1].Value, 16);

    [Test]
    public void UserFlagsAreSetMaskedByTypeAndKeptOthers()
    {
        using var image = TestImage.Build(src =>
        {
            File.WriteAllText(Path.Combine(src, "f"), "data");
            Directory.CreateDirectory(Path.Combine(src, "d"));
        }, "16M", "-O", "metadata_csum");
        uint f = Ino(image, "/f"), d = Ino(image, "/d");
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.SetUserFlags(f, NODUMP | NOATIME | SYNC | DIRSYNC | InodeLayout.EXT4_EXTENTS_FL, Ext4Volume.EXT4_FL_USER_MODIFIABLE, out var fi), Is.EqualTo(Ext4Errno.None));
            Assert.That(fi!.Flags & (NODUMP | NOATIME | SYNC | DIRSYNC), Is.EqualTo(NODUMP | NOATIME | SYNC), "DIRSYNC is for directories (ext4_mask_flags)");
            Assert.That(fi.Flags & InodeLayout.EXT4_EXTENTS_FL, Is.Not.Zero, "the extent flag stays");
            Assert.That(v.SetUserFlags(d, DIRSYNC | InodeLayout.EXT4_EXTENTS_FL, Ext4Volume.EXT4_FL_USER_MODIFIABLE, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetUserFlags(f, NODUMP | InodeLayout.EXT4_IMMUTABLE_FL | InodeLayout.EXT4_EXTENTS_FL, Ext4Volume.EXT4_FL_USER_MODIFIABLE, out _), Is.EqualTo(Ext4Errno.EOPNOTSUPP));
            Assert.That(v.SetUserFlags(f, NODUMP, Ext4Volume.EXT4_FL_USER_MODIFIABLE, out _), Is.EqualTo(Ext4Errno.EOPNOTSUPP), "clearing the extent flag is a migration");
        }

        Assert.That(DiskFlags(image, f) & (NODUMP | NOATIME | SYNC | DIRSYNC), Is.EqualTo(NODUMP | NOATIME | SYNC));
        Assert.That(DiskFlags(image, d) & DIRSYNC, Is.EqualTo(DIRSYNC));
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }

    [TestCase(0x10u)] // EXT4_IMMUTABLE_FL
    [TestCase(0x20u)] // EXT4_APPEND_FL
    public void ImmutableAndAppendOnlyFilesRefuseDataChanges(uint flag)
    {
        using var image = TestImage.Build(src => File.WriteAllText(Path.Combine(src, "f"), "data"), "16M", "-O", "metadata_csum");
        uint f = Ino(image, "/f");
        Tool.Check("debugfs", "-w", "-R", $"sif <{f}> flags 0x{DiskFlags(image, f) | flag:x}", image.ImagePath);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.WriteFile(f, 0, "x"u8, out _), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.Fallocate(f, 0, 0, 4096), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.SetAttributes(f, new Ext4AttributeChange { Size = 0 }, out _), Is.EqualTo(Ext4Errno.EPERM));
        }

        Assert.That(Tool.Debugfs(image.ImagePath, "cat /f"), Is.EqualTo("data"), "the file kept its bytes and size");
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }
}
