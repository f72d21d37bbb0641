using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using NUnit.Framework;
using Safemount.Ext4;
using Safemount.Ext4.Storage;
using Safemount.Ext4Service.Bridge;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>The bridge on a real image (mkfs.ext4 -d, no mount needed): node ids, exact lookup
/// counts (LOOKUP and READDIRPLUS, dots excluded, only records that reached the reply), errno
/// answers and xattr visibility.</summary>
[TestFixture]
public sealed class BridgeTests
{
    private string _work = string.Empty;
    private SafeFileHandle? _handle;
    private FileBlockDevice? _device;
    private Ext4Volume? _volume;

    private static FuseRequestContext Root => new(1, 1, 0, 0, 1);

    private static FuseRequestContext User => new(1, 1, 1000, 1000, 1);

    [OneTimeSetUp]
    public void BuildImage()
    {
        _work = Directory.CreateTempSubdirectory("safemount-bridge-").FullName;
        string tree = Path.Combine(_work, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "dir"));
        for (int i = 0; i < 50; i++)
        {
            File.WriteAllText(Path.Combine(tree, "dir", $"file-{i:D2}"), $"content {i}");
        }

        File.WriteAllText(Path.Combine(tree, "x"), "x");
        File.CreateSymbolicLink(Path.Combine(tree, "link"), "x");
        CommandResult r = Command.Run("setfattr", ["-n", "trusted.t", "-v", "1", Path.Combine(tree, "x")], TimeSpan.FromSeconds(10));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        r = Command.Run("setfattr", ["-n", "user.u", "-v", "2", Path.Combine(tree, "x")], TimeSpan.FromSeconds(10));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        string image = Path.Combine(_work, "bridge.img");
        r = Command.Run("mkfs.ext4", ["-q", "-F", "-d", tree, image, "16M"], TimeSpan.FromMinutes(1));
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

    [TestCase(2u, 1ul)]
    [TestCase(11u, 11ul)]
    [TestCase(12u, 12ul)]
    [TestCase(uint.MaxValue, (ulong)uint.MaxValue)]
    public void NodeIdsFollowInodeNumbers(uint ino, ulong nodeId)
    {
        Assert.That(NodeIds.FromInode(ino), Is.EqualTo(nodeId));
        Assert.That(NodeIds.ToInode(nodeId), Is.EqualTo(ino));
    }

    [TestCase(0ul)]
    [TestCase(2ul)]
    [TestCase(1ul + uint.MaxValue)]
    public void NodeIdsThatNoNodeCanHaveMapToZero(ulong nodeId) => Assert.That(NodeIds.ToInode(nodeId), Is.Zero);

    [Test]
    public void LookupCountsAreExact()
    {
        var counts = new LookupCounts();
        counts.Add(5);
        counts.Add(5);
        counts.Add(1);
        Assert.That(counts.Get(5), Is.EqualTo(2));
        Assert.That(counts.Get(1), Is.Zero, "the root is never counted");
        Assert.That(counts.Forget(5, 1, out _), Is.True);
        Assert.That(counts.Get(5), Is.EqualTo(1));
        Assert.That(counts.Forget(5, 1, out _), Is.True);
        Assert.That(counts.Count, Is.Zero);
        Assert.That(counts.Forget(5, 1, out _), Is.False, "forgetting more than was looked up is an underflow");
        Assert.That(counts.Underflows, Is.EqualTo(1));
    }

    [Test]
    public void LookupCountsOnlySuccessfulLookups()
    {
        var fs = NewBridge();
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, "dir"u8, out FuseEntry dir), Is.EqualTo(Errno.None));
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, "dir"u8, out _), Is.EqualTo(Errno.None));
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, "missing"u8, out _), Is.EqualTo(Errno.ENOENT));
        Assert.That(fs.Lookups.Get(dir.NodeId), Is.EqualTo(2));
        Assert.That(dir.Attr.Ino, Is.EqualTo(dir.NodeId), "st_ino is the inode number");
        fs.Forget(dir.NodeId, 2);
        Assert.That(fs.Lookups.Count, Is.Zero);
    }

    [Test]
    public void ReaddirplusCountsOnlyEntriesThatFitAndNeverDots()
    {
        var fs = NewBridge();
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, "dir"u8, out FuseEntry dir), Is.EqualTo(Errno.None));
        Assert.That(fs.OpenDir(Root, dir.NodeId, 0, out ulong fh, out _), Is.EqualTo(Errno.None));

        // Room for exactly five named records: ".", ".." and three files.
        int record = FuseDirectoryWriter.DirentPlusSize("file-00".Length);
        var buffer = new byte[FuseDirectoryWriter.DirentPlusSize(1) + FuseDirectoryWriter.DirentPlusSize(2) + (3 * record)];
        var writer = new FuseDirectoryWriter(buffer, true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Assert.That(fs.ReadDir(Root, dir.NodeId, fh, 0, true, ref writer), Is.EqualTo(Errno.None));
        Assert.That(writer.Length, Is.EqualTo(buffer.Length));
        Assert.That(fs.Lookups.Count, Is.EqualTo(1 + 3), "dir itself plus the three files in the reply");

        // Resume after the five records: everything else, exactly once.
        var big = new byte[64 * 1024];
        var rest = new FuseDirectoryWriter(big, true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Assert.That(fs.ReadDir(Root, dir.NodeId, fh, 5, true, ref rest), Is.EqualTo(Errno.None));
        Assert.That(fs.Lookups.Count, Is.EqualTo(1 + 50));
        fs.ReleaseDir(dir.NodeId, fh);
        Assert.That(fs.ReadDir(Root, dir.NodeId, fh, 0, false, ref rest), Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void ErrnoAnswers()
    {
        var fs = NewBridge();
        Assert.That(fs.GetAttr(Root, 2, out _), Is.EqualTo(Errno.ESTALE), "node id 2 is never handed out");
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, "x"u8, out FuseEntry x), Is.EqualTo(Errno.None));
        Assert.That(fs.Lookup(Root, x.NodeId, "y"u8, out _), Is.EqualTo(Errno.ENOTDIR));
        Assert.That(fs.ReadLink(Root, x.NodeId, out _), Is.EqualTo(Errno.EINVAL));
        Assert.That(fs.Open(Root, x.NodeId, (uint)FileInterop.O_RDWR, out _, out _), Is.EqualTo(Errno.EROFS));
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, Encoding.ASCII.GetBytes(new string('n', 256)), out _), Is.EqualTo(Errno.ENAMETOOLONG));
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, "link"u8, out FuseEntry link), Is.EqualTo(Errno.None));
        Assert.That(fs.ReadLink(Root, link.NodeId, out byte[] target), Is.EqualTo(Errno.None));
        Assert.That(target, Is.EqualTo("x"u8.ToArray()));
        Assert.That(fs.TranslateException(new Ext4ChecksumException("c")), Is.EqualTo(Errno.EBADMSG));
        Assert.That(fs.TranslateException(new Ext4CorruptionException("c")), Is.EqualTo(Errno.EUCLEAN));
        Assert.That(fs.TranslateException(new InvalidOperationException()), Is.EqualTo(Errno.EIO));
    }

    [Test]
    public void XattrVisibilityFollowsTheKernel()
    {
        var fs = NewBridge();
        Assert.That(fs.Lookup(Root, NodeIds.FuseRoot, "x"u8, out FuseEntry x), Is.EqualTo(Errno.None));
        Assert.That(fs.ListXattr(Root, x.NodeId, out byte[] rootList), Is.EqualTo(Errno.None));
        Assert.That(Encoding.UTF8.GetString(rootList).Split('\0', StringSplitOptions.RemoveEmptyEntries), Is.EquivalentTo(new[] { "trusted.t", "user.u" }));
        Assert.That(fs.ListXattr(User, x.NodeId, out byte[] userList), Is.EqualTo(Errno.None));
        Assert.That(Encoding.UTF8.GetString(userList).Split('\0', StringSplitOptions.RemoveEmptyEntries), Is.EquivalentTo(new[] { "user.u" }));
        Assert.That(fs.GetXattr(Root, x.NodeId, "user.u"u8, out byte[]? v), Is.EqualTo(Errno.None));
        Assert.That(v, Is.EqualTo("2"u8.ToArray()));
        Assert.That(fs.GetXattr(Root, x.NodeId, "user.none"u8, out _), Is.EqualTo(Errno.ENODATA));
        Assert.That(fs.GetXattr(Root, x.NodeId, "bogus.ns"u8, out _), Is.EqualTo(Errno.EOPNOTSUPP));
        Assert.That(fs.GetXattr(Root, x.NodeId, "user."u8, out _), Is.EqualTo(Errno.EOPNOTSUPP));
    }

    [Test]
    public void NameOfADeletedInodeIsCorruption()
    {
        string image = Path.Combine(_work, "deleted.img");
        File.Copy(Path.Combine(_work, "bridge.img"), image, overwrite: true);
        CommandResult r = Command.Run("debugfs", ["-w", "-R", "set_inode_field /x links_count 0", image], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        using SafeFileHandle h = File.OpenHandle(image, FileMode.Open, FileAccess.Read);
        using var device = new FileBlockDevice(h, new FileInfo(image).Length);
        using Ext4Volume volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = true });
        var fs = new Ext4FuseFileSystem(volume, NullLogger.Instance);
        var e = Assert.Throws<Ext4CorruptionException>(() => fs.Lookup(Root, NodeIds.FuseRoot, "x"u8, out _));
        Assert.That(fs.TranslateException(e!), Is.EqualTo(Errno.EUCLEAN));
        Assert.That(fs.Lookups.Count, Is.Zero);

        // READDIRPLUS still lists the name (as the kernel's readdir does), without attributes.
        Assert.That(fs.OpenDir(Root, NodeIds.FuseRoot, 0, out ulong fh, out _), Is.EqualTo(Errno.None));
        var writer = new FuseDirectoryWriter(new byte[64 * 1024], true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Assert.That(fs.ReadDir(Root, NodeIds.FuseRoot, fh, 0, true, ref writer), Is.EqualTo(Errno.None));
        Assert.That(fs.Lookups.Count, Is.EqualTo(3), "dir, lost+found and link are counted; x is not");
    }

    private Ext4FuseFileSystem NewBridge() => new(_volume!, NullLogger.Instance);
}
