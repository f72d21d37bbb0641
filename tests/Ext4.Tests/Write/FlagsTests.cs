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
            Assert.That(v.SetUserFlags(f, NODUMP | InodeLayout.EXT4_IMMUTABLE_FL | InodeLayout.EXT4_EXTENTS_FL, Ext4Volume.EXT4_FL_USER_MODIFIABLE, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetUserFlags(f, InodeLayout.EXT4_IMMUTABLE_FL | InodeLayout.EXT4_EXTENTS_FL, Ext4Volume.EXT4_FL_USER_MODIFIABLE, out _), Is.EqualTo(Ext4Errno.EPERM),
                "no other flag changes while the inode stays immutable (ext4_ioctl_check_immutable)");
            Assert.That(v.SetUserFlags(f, NODUMP | InodeLayout.EXT4_EXTENTS_FL, Ext4Volume.EXT4_FL_USER_MODIFIABLE, out _), Is.EqualTo(Ext4Errno.None), "clearing it");
            Assert.That(v.SetUserFlags(f, NODUMP, Ext4Volume.EXT4_FL_USER_MODIFIABLE, out _), Is.EqualTo(Ext4Errno.EOPNOTSUPP), "clearing the extent flag is a migration");
        }

        Assert.That(DiskFlags(image, f) & (NODUMP | NOATIME | SYNC | DIRSYNC | InodeLayout.EXT4_IMMUTABLE_FL), Is.EqualTo(NODUMP));
        Assert.That(DiskFlags(image, d) & DIRSYNC, Is.EqualTo(DIRSYNC));
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }

    [Test]
    public void ImmutableFilesRefuseEveryChange()
    {
        using var image = TestImage.Build(src => File.WriteAllText(Path.Combine(src, "f"), "data"), "16M", "-O", "metadata_csum");
        uint f = Ino(image, "/f");
        Tool.Check("debugfs", "-w", "-R", $"sif <{f}> flags 0x{DiskFlags(image, f) | InodeLayout.EXT4_IMMUTABLE_FL:x}", image.ImagePath);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            const uint root = InodeLayout.EXT4_ROOT_INO;
            Assert.That(v.WriteFile(f, 4, "x"u8, out _), Is.EqualTo(Ext4Errno.EPERM), "not even at EOF");
            Assert.That(v.Fallocate(f, 0, 0, 4096), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.SetAttributes(f, new Ext4AttributeChange { Size = 0 }, out _), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.SetAttributes(f, new Ext4AttributeChange { Mtime = (1, 0) }, out _), Is.EqualTo(Ext4Errno.EPERM), "not even times set to now");
            Assert.That(v.SetXattr(f, "user.a", "1"u8, XattrSetFlags.None), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.Link(f, root, "f2"u8, out _), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.Rename(root, "f"u8, root, "g"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.Unlink(root, "f"u8), Is.EqualTo(Ext4Errno.EPERM));
        }

        Assert.That(Tool.Debugfs(image.ImagePath, "cat /f"), Is.EqualTo("data"), "the file kept its bytes and size");
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }

    [Test]
    public void AppendOnlyFilesOnlyGrow()
    {
        using var image = TestImage.Build(src => File.WriteAllText(Path.Combine(src, "f"), "data"), "16M", "-O", "metadata_csum");
        uint f = Ino(image, "/f");
        Tool.Check("debugfs", "-w", "-R", $"sif <{f}> flags 0x{DiskFlags(image, f) | InodeLayout.EXT4_APPEND_FL:x}", image.ImagePath);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            const uint root = InodeLayout.EXT4_ROOT_INO;
            Assert.That(v.WriteFile(f, 0, "x"u8, out _), Is.EqualTo(Ext4Errno.EPERM), "a byte before EOF would change");
            Assert.That(v.WriteFile(f, 0, "datamore"u8, out int written), Is.EqualTo(Ext4Errno.None), "page writeback: the old bytes come back unchanged");
            Assert.That(written, Is.EqualTo(8));
            Assert.That(v.WriteFile(f, 8, "!"u8, out _), Is.EqualTo(Ext4Errno.None), "at EOF");
            Assert.That(v.Fallocate(f, 0, 0, 4096), Is.EqualTo(Ext4Errno.None), "plain fallocate adds blocks");
            Assert.That(v.Fallocate(f, FileData.FALLOC_FL_PUNCH_HOLE | FileData.FALLOC_FL_KEEP_SIZE, 0, 4096), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.SetAttributes(f, new Ext4AttributeChange { Size = 1 }, out _), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.SetAttributes(f, new Ext4AttributeChange { Mode = 0x180 }, out _), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.SetAttributes(f, new Ext4AttributeChange { Atime = (1, 0), Mtime = (1, 0), TimesExplicit = true }, out _), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.SetAttributes(f, new Ext4AttributeChange { Atime = (2, 0), Mtime = (2, 0) }, out _), Is.EqualTo(Ext4Errno.None), "times set to now");
            Assert.That(v.RemoveXattr(f, "user.absent"), Is.EqualTo(Ext4Errno.EPERM), "xattr_permission comes first");
            Assert.That(v.Unlink(root, "f"u8), Is.EqualTo(Ext4Errno.EPERM));
        }

        Assert.That(Tool.Debugfs(image.ImagePath, "cat /f"), Is.EqualTo("datamore!" + new string('\0', 4096 - 9)), "appended, then extended by fallocate");
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }

    [TestCase(0x10u)] // EXT4_IMMUTABLE_FL: no name comes or goes
    [TestCase(0x20u)] // EXT4_APPEND_FL: names come, none goes
    public void ProtectedDirectoriesKeepTheirNames(uint flag)
    {
        using var image = TestImage.Build(src =>
        {
            Directory.CreateDirectory(Path.Combine(src, "d", "sub"));
            File.WriteAllText(Path.Combine(src, "d", "f"), "f");
            File.WriteAllText(Path.Combine(src, "out"), "out");
        }, "16M", "-O", "metadata_csum");
        uint d = Ino(image, "/d"), outside = Ino(image, "/out");
        Tool.Check("debugfs", "-w", "-R", $"sif <{d}> flags 0x{DiskFlags(image, d) | flag:x}", image.ImagePath);
        Ext4Errno create = flag == InodeLayout.EXT4_IMMUTABLE_FL ? Ext4Errno.EPERM : Ext4Errno.None;
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            const uint root = InodeLayout.EXT4_ROOT_INO;
            Assert.That(v.Unlink(d, "f"u8), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.Rmdir(d, "sub"u8), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.Unlink(d, "sub"u8), Is.EqualTo(Ext4Errno.EPERM), "may_delete answers before the type check");
            Assert.That(v.Rename(d, "f"u8, root, "g"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.Create(d, "new"u8, 0x1A4, 0, 0, out _), Is.EqualTo(create));
            Assert.That(v.Mkdir(d, "newdir"u8, 0x1ED, 0, 0, out _), Is.EqualTo(create));
            Assert.That(v.Link(outside, d, "linked"u8, out _), Is.EqualTo(create));
            Assert.That(v.Rename(root, "out"u8, d, "moved"u8, RenameFlags.None), Is.EqualTo(create));
            if (create == Ext4Errno.EPERM)
            {
                Assert.That(v.CreateTmpFile(d, 0x81A4, 0, 0, out _), Is.EqualTo(Ext4Errno.EPERM));
            }
        }

        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
        string listing = Tool.Debugfs(image.ImagePath, "ls -l /d");
        Assert.That(listing, Does.Contain(" f").And.Contain(" sub"));
        Assert.That(listing.Contains(" new", StringComparison.Ordinal), Is.EqualTo(create == Ext4Errno.None));
    }
}
