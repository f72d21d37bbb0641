using Microsoft.Win32.SafeHandles;
using NUnit.Framework;
using Safemount.Ext4;
using Safemount.Ext4.Storage;
using Safemount.Ext4Service.Bridge;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>
/// st_blocks of inline-data inodes (found by the differential tester, seed 5): ext4_file_getattr
/// adds one sector per started 512 bytes of i_size to i_blocks for a regular file whose data is
/// inline; directories and non-inline files report i_blocks alone. The table holds what the
/// kernel's own stat(2) reports for the same image on this machine; as root the test also asks
/// the kernel again.
/// </summary>
[TestFixture]
public sealed class InlineDataBlocksTests
{
    private string _work = string.Empty;
    private string _image = string.Empty;
    private SafeFileHandle? _handle;
    private FileBlockDevice? _device;
    private Ext4Volume? _volume;

    [OneTimeSetUp]
    public void BuildImage()
    {
        _work = Directory.CreateTempSubdirectory("safemount-inline-blocks-").FullName;
        string tree = Path.Combine(_work, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "dir"));
        File.WriteAllBytes(Path.Combine(tree, "dir", "a"), []);
        File.WriteAllBytes(Path.Combine(tree, "empty"), []);
        File.WriteAllBytes(Path.Combine(tree, "one"), [0x78]);
        File.WriteAllBytes(Path.Combine(tree, "sixty"), new byte[60]);
        File.WriteAllBytes(Path.Combine(tree, "hundred"), Enumerable.Range(0, 100).Select(i => (byte)i).ToArray());
        File.WriteAllBytes(Path.Combine(tree, "xblock"), Enumerable.Range(0, 100).Select(i => (byte)(i + 1)).ToArray());
        File.WriteAllBytes(Path.Combine(tree, "big"), Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray());
        // 1500 bytes of xattr value do not fit in the inode: the file gets an xattr block (8 sectors).
        CommandResult r = Command.Run("setfattr", ["-n", "trusted.big", "-v", new string('v', 1500), Path.Combine(tree, "xblock")], TimeSpan.FromSeconds(10));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        _image = Path.Combine(_work, "inline.img");
        r = Command.Run("mkfs.ext4", ["-q", "-F", "-b", "4096", "-O", "inline_data", "-d", tree, _image, "16M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        TestImages.AssertClean(_image);
        _handle = File.OpenHandle(_image, FileMode.Open, FileAccess.Read);
        _device = new FileBlockDevice(_handle, new FileInfo(_image).Length);
        _volume = Ext4Volume.Open(_device, new Ext4OpenOptions { ReadOnly = true });
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _volume?.Dispose();
        _device?.Dispose();
        _handle?.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    // name, inline?, i_blocks on disk, st_blocks the kernel reports
    [TestCase("empty", true, 0ul, 0ul)]
    [TestCase("one", true, 0ul, 1ul)]
    [TestCase("sixty", true, 0ul, 1ul)]
    [TestCase("hundred", true, 0ul, 1ul)]
    [TestCase("xblock", true, 8ul, 9ul)]
    [TestCase("big", false, 16ul, 16ul)]
    [TestCase("dir", true, 0ul, 0ul)]
    public void StBlocksMatchTheKernel(string name, bool inline, ulong iBlocks, ulong stBlocks)
    {
        Ext4Volume v = _volume!;
        Ext4Inode inode = v.ReadInode(v.Lookup(v.ReadInode(2), System.Text.Encoding.UTF8.GetBytes(name)));
        Assert.That((inode.Flags & 0x10000000) != 0, Is.EqualTo(inline), "EXT4_INLINE_DATA_FL");
        Assert.That(inode.Blocks512, Is.EqualTo(iBlocks), "i_blocks");
        Assert.That(AttrMapper.ToAttr(inode, v.BlockSize).Blocks, Is.EqualTo(stBlocks), "st_blocks");
    }

    [Test]
    public void KernelAgreesWithTheTable()
    {
        TestEnvironment.RequireMountEnvironment();
        string mnt = Path.Combine(_work, "kmnt");
        Directory.CreateDirectory(mnt);
        CommandResult r = Command.Run("unshare",
            ["-m", "--propagation", "private", "/bin/sh", "-c",
             "mount -o ro,loop \"$1\" \"$2\" && cd \"$2\" && stat -c '%n %b' empty one sixty hundred xblock big dir; cd /; umount \"$2\"",
             "stat", _image, mnt],
            TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        Assert.That(r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            Is.EqualTo(new[] { "empty 0", "one 1", "sixty 1", "hundred 1", "xblock 9", "big 16", "dir 0" }));
    }
}
