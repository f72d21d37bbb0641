using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using NUnit.Framework;
using Safemount.Ext4;
using Safemount.Ext4.Storage;
using Safemount.Ext4Service.Bridge;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>FUSE_IOCTL answers of the bridge on a real image whose flags and project ids debugfs
/// set (no mount needed): FS_IOC_GETFLAGS masks to EXT4_FL_USER_VISIBLE and hides PROJINHERIT on
/// regular files; FS_IOC_FSGETXATTR maps flags to xflags and carries i_projid; the set variants
/// are EROFS on a read-only volume; anything else ENOTTY.</summary>
[TestFixture]
public sealed class BridgeIoctlTests
{
    private const uint GetFlags = 0x80086601;
    private const uint GetFlags32 = 0x80046601;
    private const uint FsGetXattr = 0x801C581F;

    private string _work = string.Empty;
    private SafeFileHandle? _handle;
    private FileBlockDevice? _device;
    private Ext4Volume? _volume;
    private Ext4FuseFileSystem? _fs;

    private static FuseRequestContext Ctx => new(1, 1, 0, 0, 1);

    [OneTimeSetUp]
    public void BuildImage()
    {
        _work = Directory.CreateTempSubdirectory("safemount-bridge-ioctl-").FullName;
        string tree = Path.Combine(_work, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "dir"));
        File.WriteAllText(Path.Combine(tree, "file"), "f");
        string image = Path.Combine(_work, "ioctl.img");
        CommandResult r = Command.Run("mkfs.ext4", ["-q", "-F", "-O", "project", "-I", "256", "-d", tree, image, "16M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        // file: extents | immutable | nodump | EA_INODE (not user-visible) | PROJINHERIT (hidden
        // on regular files) | RESERVED (not user-visible). dir: extents | PROJINHERIT | noatime.
        foreach (string cmd in new[]
        {
            "set_inode_field /file flags 0xa0280050", "set_inode_field /file projid 42", "set_inode_field /file generation 0x9abcdef1",
            "set_inode_field /dir flags 0x20080080", "set_inode_field /dir projid 2000000000",
        })
        {
            r = Command.Run("debugfs", ["-w", "-R", cmd, image], TimeSpan.FromMinutes(1));
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
        }

        _handle = File.OpenHandle(image, FileMode.Open, FileAccess.Read);
        _device = new FileBlockDevice(_handle, new FileInfo(image).Length);
        _volume = Ext4Volume.Open(_device, new Ext4OpenOptions { ReadOnly = true });
        _fs = new Ext4FuseFileSystem(_volume, NullLogger.Instance);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _volume?.Dispose();
        _device?.Dispose();
        _handle?.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private ulong Node(string name) =>
        NodeIds.FromInode(_volume!.Lookup(_volume.ReadInode(2), System.Text.Encoding.UTF8.GetBytes(name)));

    private (Errno Error, byte[] Output) Call(ulong node, uint cmd, int outSize, bool directory = false)
    {
        var output = new byte[outSize];
        Errno e = _fs!.Ioctl(Ctx, node, 0, cmd, directory, [], output, out int written);
        return (e, output[..written]);
    }

    [TestCase(GetFlags)]
    [TestCase(GetFlags32)]
    public void GetFlagsShowsTheUserVisibleSubset(uint cmd)
    {
        var (e, o) = Call(Node("file"), cmd, 4);
        Assert.That(e, Is.EqualTo(Errno.None));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o), Is.EqualTo(0x00080050u), "extents|immutable|nodump only");
        (e, o) = Call(Node("dir"), cmd, 4, directory: true);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o), Is.EqualTo(0x20080080u), "PROJINHERIT stays on a directory");
    }

    [Test]
    public void FsGetXattrCarriesXflagsAndProjectId()
    {
        var (e, o) = Call(Node("file"), FsGetXattr, 28);
        Assert.That(e, Is.EqualTo(Errno.None));
        Assert.That(o, Has.Length.EqualTo(28));
        Assert.Multiple(() =>
        {
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o), Is.EqualTo(0x8u | 0x80u), "FS_XFLAG_IMMUTABLE | FS_XFLAG_NODUMP");
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o.AsSpan(4)), Is.Zero, "fsx_extsize");
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o.AsSpan(8)), Is.Zero, "fsx_nextents");
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o.AsSpan(12)), Is.EqualTo(42u), "fsx_projid");
            Assert.That(o[16..], Is.All.Zero, "fsx_cowextsize and fsx_pad");
        });
        (_, o) = Call(Node("dir"), FsGetXattr, 28, directory: true);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o), Is.EqualTo(0x200u | 0x40u), "FS_XFLAG_PROJINHERIT | FS_XFLAG_NOATIME");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o.AsSpan(12)), Is.EqualTo(2000000000u));
    }

    [TestCase(0x80087601u)] // FS_IOC_GETVERSION
    [TestCase(0x80047601u)] // FS_IOC32_GETVERSION
    [TestCase(0x80086603u)] // EXT4_IOC_GETVERSION
    public void GetVersionIsTheGeneration(uint cmd)
    {
        ulong file = Node("file");
        var (e, o) = Call(file, cmd, 8);
        Assert.That(e, Is.EqualTo(Errno.None));
        Assert.That(o, Has.Length.EqualTo(4), "ext4 puts one int");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(o), Is.EqualTo(0x9abcdef1u), "i_generation as debugfs set it");
    }

    [Test]
    public void SetUnknownAndShortRequestsAreRefused()
    {
        ulong file = Node("file");
        Assert.That(Call(file, 0x40086602, 0).Error, Is.EqualTo(Errno.EROFS), "FS_IOC_SETFLAGS");
        Assert.That(Call(file, 0x401C5820, 0).Error, Is.EqualTo(Errno.EROFS), "FS_IOC_FSSETXATTR");
        Assert.That(Call(file, 0x8008_6678, 8).Error, Is.EqualTo(Errno.ENOTTY), "an ext4 ioctl not served");
        Assert.That(Call(file, 0x5401, 0).Error, Is.EqualTo(Errno.ENOTTY), "TCGETS");
        Assert.That(Call(file, GetFlags, 2).Error, Is.EqualTo(Errno.EINVAL), "out_size too small for the flags");
        Assert.That(Call(file, FsGetXattr, 27).Error, Is.EqualTo(Errno.EINVAL), "out_size too small for struct fsxattr");
    }
}
