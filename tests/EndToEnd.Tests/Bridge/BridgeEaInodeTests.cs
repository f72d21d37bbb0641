using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using NUnit.Framework;
using Safemount.Ext4;
using Safemount.Ext4.Storage;
using Safemount.Ext4Service.Bridge;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>An inode carrying EXT4_EA_INODE_FL reached through a directory entry: the kernel's
/// __ext4_iget refuses it ("unexpected EA_INODE flag", EFSCORRUPTED), so LOOKUP is EUCLEAN and
/// READDIRPLUS lists the name without attributes, as it does for a deleted inode.</summary>
[TestFixture]
public sealed class BridgeEaInodeTests
{
    private string _work = string.Empty;
    private SafeFileHandle? _handle;
    private FileBlockDevice? _device;
    private Ext4Volume? _volume;

    private static FuseRequestContext Root => new(1, 1, 0, 0, 1);

    [OneTimeSetUp]
    public void BuildImage()
    {
        _work = Directory.CreateTempSubdirectory("safemount-bridge-ea-").FullName;
        string tree = Path.Combine(_work, "tree");
        Directory.CreateDirectory(tree);
        File.WriteAllText(Path.Combine(tree, "named-ea"), "value");
        File.WriteAllText(Path.Combine(tree, "plain"), "plain");
        string image = Path.Combine(_work, "ea.img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", "-O", "ea_inode", "-d", tree, image, "16M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        r = Command.Run("debugfs", ["-w", "-R", "set_inode_field /named-ea flags 0x280000", image], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        _handle = File.OpenHandle(image, FileMode.Open, FileAccess.Read);
        _device = new FileBlockDevice(_handle, new FileInfo(image).Length);
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

    [Test]
    public void LookupOfAnEaInodeIsCorruption()
    {
        var fs = new Ext4FuseFileSystem(_volume!, NullLogger.Instance);
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, "plain"u8, out _), Is.EqualTo(Errno.None));
        var e = Assert.Throws<Ext4CorruptionException>(() => fs.Lookup(Root, NodeIds.FuseRoot, "named-ea"u8, out _));
        Assert.That(e!.Message, Does.Contain("EA inode"));
        Assert.That(fs.TranslateException(e), Is.EqualTo(Errno.EUCLEAN));
    }

    [Test]
    public void ReadDirPlusListsAnEaInodeWithoutAttributes()
    {
        var fs = new Ext4FuseFileSystem(_volume!, NullLogger.Instance);
        Assert.That(fs.OpenDir(Root, NodeIds.FuseRoot, 0, out ulong fh, out _), Is.EqualTo(Errno.None));
        var buffer = new byte[64 * 1024];
        var writer = new FuseDirectoryWriter(buffer, true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Assert.That(fs.ReadDir(Root, NodeIds.FuseRoot, fh, 0, true, ref writer), Is.EqualTo(Errno.None));
        fs.ReleaseDir(NodeIds.FuseRoot, fh);
        // lost+found and plain are counted; the dots and the EA inode are not.
        Assert.That(fs.Lookups.Count, Is.EqualTo(2));
        uint ea = _volume!.Lookup(_volume.ReadInode(2), "named-ea"u8);
        Assert.That(fs.Lookups.Get(NodeIds.FromInode(ea)), Is.Zero);
    }
}
