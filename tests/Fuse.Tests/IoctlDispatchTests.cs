using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>FUSE_IOCTL (opcode 39) through the whole session: fuse_ioctl_in decoding, the
/// in-data handed to the file system, the fuse_ioctl_out + data reply, and the error paths.</summary>
public class IoctlDispatchTests
{
    private const uint FUSE_IOCTL = 39;
    private const uint FUSE_IOCTL_UNRESTRICTED = 1 << 1;
    private const uint FUSE_IOCTL_DIR = 1 << 4;

    /// <summary>fuse_ioctl_in: fh, flags, cmd, arg, in_size, out_size; then the in data.</summary>
    private static byte[] IoctlRequest(ulong unique, ulong node, ulong fh, uint flags, uint cmd, uint outSize, byte[] input) =>
        Le.Request(FUSE_IOCTL, unique, node,
            Le.U64(fh), Le.U32(flags), Le.U32(cmd), Le.U64(0x7ffd_0000_1000), Le.U32((uint)input.Length), Le.U32(outSize), input);

    [Test]
    public void ReplyIsIoctlOutFollowedByTheOutputBytes()
    {
        var fs = new TestFileSystem();
        Reply r = SessionHarness.RunAfterInit(fs, IoctlRequest(4, TestFileSystem.Hello, 77, 0, TestFileSystem.EchoIoctl, 8, [1, 2, 3, 4, 5, 6, 7, 8])).Single();
        Assert.Multiple(() =>
        {
            Assert.That(r.Error, Is.Zero);
            Assert.That(r.Payload, Has.Length.EqualTo(16 + 8), "fuse_ioctl_out + out_size bytes");
            Assert.That(r.U32(0), Is.Zero, "result");
            Assert.That(r.U32(4), Is.Zero, "flags: no RETRY");
            Assert.That(r.U32(8), Is.Zero, "in_iovs");
            Assert.That(r.U32(12), Is.Zero, "out_iovs");
            Assert.That(r.Payload[16..], Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        });
        Assert.That(fs.Ioctls.Single(), Is.EqualTo((TestFileSystem.Hello, 77UL, TestFileSystem.EchoIoctl, false)));
    }

    [Test]
    public void OutputIsCutToOutSizeAndDirFlagIsPassedOn()
    {
        var fs = new TestFileSystem();
        Reply r = SessionHarness.RunAfterInit(fs, IoctlRequest(4, TestFileSystem.Root, 5, FUSE_IOCTL_DIR, TestFileSystem.EchoIoctl, 3, [9, 8, 7, 6])).Single();
        Assert.That(r.Error, Is.Zero);
        Assert.That(r.Payload[16..], Is.EqualTo(new byte[] { 9, 8, 7 }));
        Assert.That(fs.Ioctls.Single().Directory, Is.True);
    }

    [Test]
    public void UnknownCommandUnrestrictedAndOverclaimedOutputAreErrors()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            IoctlRequest(4, TestFileSystem.Hello, 1, 0, 0x80086601, 4, []),
            IoctlRequest(5, TestFileSystem.Hello, 1, FUSE_IOCTL_UNRESTRICTED, TestFileSystem.EchoIoctl, 4, []));
        Assert.That(r.Select(x => (x.Unique, x.Error, x.Payload.Length)), Is.EqualTo(new[]
        {
            (4UL, -(int)Errno.ENOTTY, 0),
            (5UL, -(int)Errno.ENOTTY, 0),
        }));
        Assert.That(fs.Ioctls, Has.Count.EqualTo(1), "UNRESTRICTED never reaches the file system");

        var liar = new TestFileSystem { IoctlOverclaim = 9 };
        Reply bad = SessionHarness.RunAfterInit(liar, IoctlRequest(6, TestFileSystem.Hello, 1, 0, TestFileSystem.EchoIoctl, 4, [1, 2, 3, 4])).Single();
        Assert.That((bad.Error, bad.Payload.Length), Is.EqualTo((-(int)Errno.EIO, 0)), "more output than out_size is EIO, never sent");
    }

    [Test]
    public void InSizeLargerThanTheBodyIsMalformed()
    {
        var fs = new TestFileSystem();
        byte[] req = Le.Request(FUSE_IOCTL, 4, TestFileSystem.Hello,
            Le.U64(1), Le.U32(0), Le.U32(TestFileSystem.EchoIoctl), Le.U64(0), Le.U32(100), Le.U32(4), [1, 2]);
        Reply r = SessionHarness.RunAfterInit(fs, req).Single();
        Assert.That(r.Error, Is.EqualTo(-(int)Errno.EINVAL));
        Assert.That(fs.Ioctls, Is.Empty);
    }

    [TestCase(0x40086602u, 4)]   // FS_IOC_SETFLAGS: the kernel's fileattr_set sends the flags word
    [TestCase(0x401C5820u, 28)]  // FS_IOC_FSSETXATTR: struct fsxattr
    public void SetVariantsHandTheInputBytesToTheFileSystemEvenWhenReadOnly(uint cmd, int inSize)
    {
        // IOCTL is not gated by the session: the file system refuses set commands itself
        // (the bridge answers EROFS while read-only).
        byte[] input = [.. Enumerable.Range(1, inSize).Select(i => (byte)i)];
        foreach (bool readOnly in new[] { true, false })
        {
            var fs = new TestFileSystem { IsReadOnly = readOnly };
            Reply r = SessionHarness.RunAfterInit(fs, IoctlRequest(4, TestFileSystem.Hello, 9, 0, cmd, 0, input)).Single();
            Assert.That(r.Error, Is.EqualTo(-(int)Errno.ENOTTY), "the test file system's answer, not the session's");
            Assert.That(fs.Ioctls.Single(), Is.EqualTo((TestFileSystem.Hello, 9UL, cmd, false)));
            Assert.That(fs.IoctlInputs.Single(), Is.EqualTo(input));
        }
    }
}
