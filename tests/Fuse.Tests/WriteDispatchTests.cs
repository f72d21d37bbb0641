using System.Text;
using Safemount.Shared.Interop;
using W = Safemount.Fuse.Tests.WriteFixtures;

namespace Safemount.Fuse.Tests;

/// <summary>Every write opcode (and LSEEK, FSYNCDIR) through the whole session with byte-exact
/// requests: the fields the file system receives and the reply bytes.</summary>
public class WriteDispatchTests
{
    private const ulong HourSeconds = 3600;

    private static TestFileSystem Writable() => new() { IsReadOnly = false };

    private static IEnumerable<TestCaseData> EachWriteOpcode() =>
        W.OneOfEach().Select(x => new TestCaseData(x.Opcode, x.Request).SetName($"{x.Name} ({x.Opcode})"));

    [TestCaseSource(nameof(EachWriteOpcode))]
    public void WriteOpcodeIsErofsWhileReadOnlyAndReachesTheFileSystemOtherwise(uint opcode, byte[] request)
    {
        var ro = new TestFileSystem();
        Reply r = SessionHarness.RunAfterInit(ro, request).Single();
        Assert.That((r.Unique, r.Error, r.Payload.Length), Is.EqualTo((4UL, -(int)Errno.EROFS, 0)));
        Assert.That(ro.Calls, Is.Empty, "the file system is not called while read-only");

        var rw = Writable();
        Reply w = SessionHarness.RunAfterInit(rw, request).Single();
        Assert.That(w.Error, Is.Not.EqualTo(-(int)Errno.EROFS).And.Not.EqualTo(-(int)Errno.ENOSYS).And.Not.EqualTo(-(int)Errno.EINVAL));
        Assert.That(rw.Calls, Has.Count.EqualTo(1), "exactly one file system call");
    }

    [Test]
    public void EveryWriteOpcodeOfTheProtocolIsGated()
    {
        // The session's list and the fixtures cover the same 17 opcodes; nothing else is gated.
        uint[] gated = [.. Enumerable.Range(1, 60).Select(i => (uint)i).Where(o => FuseSession.IsWriteOpcode((Abi.FuseOpcode)o))];
        Assert.That(gated, Is.EquivalentTo(W.OneOfEach().Select(x => x.Opcode)));
        Assert.That(gated, Has.Length.EqualTo(17));
    }

    [Test]
    public void CreateRepliesEntryOutThenOpenOut()
    {
        var fs = Writable();
        Reply r = SessionHarness.RunAfterInit(fs, W.Create(4, 1, "new", 0x8241, 0x81A4, 0x12)).Single();
        Assert.Multiple(() =>
        {
            Assert.That(r.Error, Is.Zero);
            Assert.That(r.Payload, Has.Length.EqualTo(144), "fuse_entry_out 128 + fuse_open_out 16");
            Assert.That(r.U64(0), Is.EqualTo(TestFileSystem.FirstCreated), "entry.nodeid");
            Assert.That(r.U64(8), Is.EqualTo(7UL), "entry.generation");
            Assert.That(r.U64(16), Is.EqualTo(HourSeconds), "entry_valid");
            Assert.That(r.U64(24), Is.EqualTo(HourSeconds), "attr_valid");
            Assert.That(r.U32(40 + 60), Is.EqualTo(0x81A4), "attr.mode");
            Assert.That(r.U32(40 + 68), Is.EqualTo(1000), "attr.uid: the caller's");
            Assert.That(r.U64(128), Is.EqualTo(0x1000 + TestFileSystem.FirstCreated), "open_out.fh");
            Assert.That(r.U32(136), Is.Zero, "open_out.open_flags");
            Assert.That(r.U32(140), Is.Zero, "open_out.backing_id");
        });
        Assert.That(fs.Calls, Is.EqualTo(new[] { "CREATE parent=1 name=new mode=100644 umask=22 flags=8241" }));
        Assert.That(fs.LookupCounts[TestFileSystem.FirstCreated], Is.EqualTo(1), "a created entry counts one lookup");
    }

    [Test]
    public void TmpfileRepliesLikeCreateWithAnUnlinkedNode()
    {
        var fs = Writable();
        Reply r = SessionHarness.RunAfterInit(fs, W.Create(4, 1, "/", 0x410002, 0x8180, 0x12, opcode: W.FUSE_TMPFILE)).Single();
        Assert.That((r.Error, r.Payload.Length), Is.EqualTo((0, 144)));
        Assert.That(r.U32(40 + 64), Is.Zero, "attr.nlink");
        Assert.That(fs.Calls, Is.EqualTo(new[] { "TMPFILE parent=1 mode=100600 umask=22 flags=410002" }));
    }

    [Test]
    public void MknodMkdirSymlinkLinkDecodeTheirFields()
    {
        var fs = Writable();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            W.MkNod(4, 1, "fifo", 0x11A4, 0, 0x12),                  // S_IFIFO | 0644
            W.MkNod(5, 1, "null", 0x21B6, 0x103, 0x12),              // S_IFCHR | 0666, 1:3
            W.MkDir(6, 1, "dir", 0x1ED, 0x22),                       // 0755
            W.Symlink(7, 1000 + 2, "sl", "../hello"),                 // in the new directory
            W.Link(8, 1, TestFileSystem.Hello, "hard"),
            Le.Request(5, 9, 1000 + 3),                              // READLINK of the symlink
            Le.Request(3, 10, 1, Le.U32(0), Le.U32(0), Le.U64(0)));  // GETATTR root
        Assert.That(r.Select(x => x.Error), Is.All.Zero);
        Assert.That(r[..5].Select(x => x.Payload.Length), Is.All.EqualTo(128), "fuse_entry_out");
        Assert.That(r[0].U32(40 + 60), Is.EqualTo(0x11A4));
        Assert.That(r[1].U32(40 + 76), Is.EqualTo(0x103), "attr.rdev");
        Assert.That(r[2].U32(40 + 60), Is.EqualTo(0x41ED), "S_IFDIR | 0755");
        Assert.That(r[4].U64(0), Is.EqualTo(TestFileSystem.Hello), "LINK answers the existing node");
        Assert.That(r[4].U32(40 + 64), Is.EqualTo(2), "nlink");
        Assert.That(Encoding.ASCII.GetString(r[5].Payload), Is.EqualTo("../hello"));
        Assert.That(r[6].U32(16 + 64), Is.EqualTo(3), "root nlink counts the new directory's ..");
        Assert.That(fs.Calls, Is.EqualTo(new[]
        {
            "MKNOD parent=1 name=fifo mode=10644 rdev=0 umask=22",
            "MKNOD parent=1 name=null mode=20666 rdev=103 umask=22",
            "MKDIR parent=1 name=dir mode=755 umask=42",
            "SYMLINK parent=1002 name=sl target=../hello",
            "LINK node=2 newparent=1 name=hard",
        }));
    }

    [Test]
    public void UnlinkRmdirAndTheirErrors()
    {
        var fs = Writable();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            W.MkDir(4, 1, "d", 0x1ED, 0),
            W.Create(5, 1000, "f", 0x8241, 0x81A4, 0),
            W.Unlink(6, 1, "d", W.FUSE_RMDIR),       // not empty
            W.Unlink(7, 1, "d"),                     // a directory
            W.Unlink(8, 1000, "f"),
            W.Unlink(9, 1, "d", W.FUSE_RMDIR),
            W.Unlink(10, 1, "missing"));
        Assert.That(r.Select(x => (x.Unique, x.Error, x.Payload.Length)), Is.EqualTo(new[]
        {
            (4UL, 0, 128), (5UL, 0, 144), (6UL, -(int)Errno.ENOTEMPTY, 0), (7UL, -(int)Errno.EISDIR, 0),
            (8UL, 0, 0), (9UL, 0, 0), (10UL, -(int)Errno.ENOENT, 0),
        }));
        Assert.That(fs.Calls.Skip(2), Is.EqualTo(new[]
        {
            "RMDIR parent=1 name=d", "UNLINK parent=1 name=d", "UNLINK parent=1000 name=f", "RMDIR parent=1 name=d", "UNLINK parent=1 name=missing",
        }));
    }

    [Test]
    public void RenameAndRename2Flags()
    {
        var fs = Writable();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            W.MkDir(4, 1, "d", 0x1ED, 0),
            W.Rename(5, 1, "hello", 1000, "moved"),
            W.Rename2(6, 1000, "moved", 1, "link", 1),   // NOREPLACE onto an existing name
            W.Rename2(7, 1000, "moved", 1, "link", 2),   // EXCHANGE
            W.Rename2(8, 1000, "moved", 1, "nothere", 2), // EXCHANGE with a missing target
            Le.Request(1, 9, 1, Le.Name("link")),        // LOOKUP: now hello's node
            Le.Request(1, 10, 1000, Le.Name("moved")));  // LOOKUP: now the symlink
        Assert.That(r.Select(x => x.Error), Is.EqualTo(new[] { 0, 0, -(int)Errno.EEXIST, 0, -(int)Errno.ENOENT, 0, 0 }));
        Assert.That(r[5].U64(0), Is.EqualTo(TestFileSystem.Hello));
        Assert.That(r[6].U64(0), Is.EqualTo(TestFileSystem.LinkNode));
        Assert.That(fs.Calls.Skip(1), Is.EqualTo(new[]
        {
            "RENAME parent=1 name=hello newparent=1000 newname=moved flags=None",
            "RENAME parent=1000 name=moved newparent=1 newname=link flags=RENAME_NOREPLACE",
            "RENAME parent=1000 name=moved newparent=1 newname=link flags=RENAME_EXCHANGE",
            "RENAME parent=1000 name=moved newparent=1 newname=nothere flags=RENAME_EXCHANGE",
        }));
    }

    [Test]
    public void SetattrDecodesEveryFieldAndRepliesAttrOut()
    {
        var fs = Writable();
        const uint all = 0xFFF; // FATTR_MODE .. FATTR_KILL_SUIDGID
        Reply r = SessionHarness.RunAfterInit(fs, W.SetAttr(4, TestFileSystem.Hello, all, size: 3, mode: 0x81ED)).Single();
        Assert.That(fs.LastSetAttr, Is.EqualTo(new FuseSetAttr(
            (FuseSetAttrValid)all, 0xF00D, 3, 0xABCD, 1_650_000_001, 111, 1_650_000_002, 222, 1_650_000_003, 333, 0x81ED, 4001, 4002)));
        Assert.Multiple(() =>
        {
            Assert.That(r.Error, Is.Zero);
            Assert.That(r.Payload, Has.Length.EqualTo(104), "fuse_attr_out");
            Assert.That(r.U64(0), Is.EqualTo(HourSeconds), "attr_valid");
            Assert.That(r.U64(16 + 8), Is.EqualTo(3UL), "attr.size");
            Assert.That(r.U32(16 + 60), Is.EqualTo(0x81ED), "attr.mode");
            Assert.That(r.U32(16 + 68), Is.EqualTo(4001), "attr.uid");
            Assert.That(r.U32(16 + 72), Is.EqualTo(4002), "attr.gid");
            Assert.That(r.U64(16 + 40), Is.EqualTo(1_650_000_003UL), "attr.ctime from FATTR_CTIME");
        });

        // ATIME_NOW/MTIME_NOW: the file system's clock, not the fields.
        Reply now = SessionHarness.RunAfterInit(fs, W.SetAttr(5, TestFileSystem.Hello, 0x10 | 0x20 | 0x80 | 0x100)).Single();
        Assert.That((long)now.U64(16 + 24), Is.GreaterThan(1_700_000_000L), "atime now");
        Assert.That((long)now.U64(16 + 32), Is.GreaterThan(1_700_000_000L), "mtime now");
    }

    [Test]
    public void WriteHandsOverTheDataAndFlagsAndRepliesWriteOut()
    {
        var fs = Writable();
        byte[] data = [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 7))];
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            W.Write(4, TestFileSystem.Hello, 0x1002, 6, data, writeFlags: 1 | 4),  // CACHE | KILL_SUIDGID
            Le.Request(15, 5, TestFileSystem.Hello, Fixtures.ReadIn(0x1002, 0, 8192)));
        Assert.That((r[0].Error, r[0].Payload.Length, r[0].U32(0), r[0].U32(4)), Is.EqualTo((0, 8, 5000U, 0U)), "fuse_write_out {size, padding}");
        Assert.That(r[1].Payload, Is.EqualTo(TestFileSystem.HelloData[..6].Concat(data).ToArray()));
        Assert.That(fs.Calls.First(), Is.EqualTo("WRITE node=2 fh=1002 offset=6 size=5000 writeflags=FUSE_WRITE_CACHE, FUSE_WRITE_KILL_SUIDGID flags=8001"));
    }

    [Test]
    public void WriteClaimingMoreThanItGotIsEio()
    {
        var fs = new TestFileSystem { IsReadOnly = false, WriteOverclaim = 4 };
        var (replies, log, _) = SessionHarness.Run(fs, [W.Write(4, TestFileSystem.Hello, 1, 0, [1, 2, 3])]);
        Assert.That(replies[1].Error, Is.EqualTo(-(int)Errno.EIO));
        Assert.That(log.Has(1121), Is.True);
    }

    [Test]
    public void FallocateSetxattrRemovexattr()
    {
        var fs = Writable();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            W.Fallocate(4, TestFileSystem.Hello, 0x1002, 4096, 8192, 0),
            W.Fallocate(5, TestFileSystem.Hello, 0x1002, 0, 10, 0x10),            // ZERO_RANGE: not in the test FS
            W.SetXattr(6, TestFileSystem.Hello, "user.new", "abc"u8.ToArray(), 1, 1),
            W.SetXattr(7, TestFileSystem.Hello, "user.new", "x"u8.ToArray(), 1),   // XATTR_CREATE on an existing one
            W.SetXattr(8, TestFileSystem.Hello, "user.empty", [], 0),
            W.RemoveXattr(9, TestFileSystem.Hello, "user.test"),
            W.RemoveXattr(10, TestFileSystem.Hello, "user.test"),
            Le.Request(22, 11, TestFileSystem.Hello, Le.U32(64), Le.U32(0), Le.Name("user.new")));
        Assert.That(r.Select(x => x.Error), Is.EqualTo(new[] { 0, -(int)Errno.EOPNOTSUPP, 0, -(int)Errno.EEXIST, 0, 0, -(int)Errno.ENODATA, 0 }));
        Assert.That(Encoding.ASCII.GetString(r[7].Payload), Is.EqualTo("abc"));
        Assert.That(fs.Calls, Is.EqualTo(new[]
        {
            "FALLOCATE node=2 fh=1002 offset=4096 length=8192 mode=0",
            "FALLOCATE node=2 fh=1002 offset=0 length=10 mode=10",
            "SETXATTR node=2 name=user.new value=abc flags=1 setxattr_flags=1",
            "SETXATTR node=2 name=user.new value=x flags=1 setxattr_flags=0",
            "SETXATTR node=2 name=user.empty value= flags=0 setxattr_flags=0",
            "REMOVEXATTR node=2 name=user.test",
            "REMOVEXATTR node=2 name=user.test",
        }));
    }

    [Test]
    public void SetxattrWithoutSetxattrExtUsesTheEightByteStruct()
    {
        var fs = Writable();
        byte[] init = W.InitWithout(1U << 29, 0); // no FUSE_SETXATTR_EXT offered
        var (replies, _, session) = SessionHarness.Run(fs, [init, W.SetXattrCompat(4, TestFileSystem.Hello, "user.c", "vv"u8.ToArray(), 2)], init: false);
        Assert.That(session.InitResult!.Value.TakenFlags & (1UL << 29), Is.Zero);
        Assert.That(replies[1].Error, Is.EqualTo(-(int)Errno.ENODATA), "XATTR_REPLACE of a missing attribute");
        Assert.That(fs.Calls, Is.EqualTo(new[] { "SETXATTR node=2 name=user.c value=vv flags=2 setxattr_flags=0" }));

        // With SETXATTR_EXT negotiated the same 8-byte form misreads as a 16-byte struct and
        // leaves no valid name: malformed.
        var ext = Writable();
        Reply bad = SessionHarness.RunAfterInit(ext, W.SetXattrCompat(4, TestFileSystem.Hello, "user.c", "vv"u8.ToArray(), 2)).Single();
        Assert.That(bad.Error, Is.EqualTo(-(int)Errno.EINVAL));
    }

    [Test]
    public void LseekDataAndHoleAlsoWhenReadOnly()
    {
        var fs = Writable();
        byte[] block = [.. Enumerable.Repeat((byte)1, 4096)];
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            W.Write(4, TestFileSystem.Hello, 1, 8192, block),     // hello: data 0..4095, hole 4096..8191, data 8192..12287
            W.Lseek(5, TestFileSystem.Hello, 1, 100, 4),          // SEEK_HOLE
            W.Lseek(6, TestFileSystem.Hello, 1, 4096, 3),         // SEEK_DATA
            W.Lseek(7, TestFileSystem.Hello, 1, 9000, 4),         // SEEK_HOLE: EOF
            W.Lseek(8, TestFileSystem.Hello, 1, 20000, 3));       // past EOF
        Assert.That(r.Select(x => x.Error), Is.EqualTo(new[] { 0, 0, 0, 0, -(int)Errno.ENXIO }));
        Assert.That(r[1..4].Select(x => (x.Payload.Length, x.U64(0))), Is.EqualTo(new[] { (8, 4096UL), (8, 8192UL), (8, 12288UL) }), "fuse_lseek_out.offset");
        Assert.That(fs.Calls.Skip(1).First(), Is.EqualTo("LSEEK node=2 fh=1 offset=100 whence=4"));

        var ro = new TestFileSystem();
        Reply seen = SessionHarness.RunAfterInit(ro, W.Lseek(4, TestFileSystem.Hello, 1, 0, 3)).Single();
        Assert.That((seen.Error, seen.U64(0)), Is.EqualTo((0, 0UL)), "LSEEK only reads: served read-only");

        var (bad, log, _) = SessionHarness.Run(new TestFileSystem { LseekOverride = -5 }, [W.Lseek(4, TestFileSystem.Hello, 1, 0, 3)]);
        Assert.That(bad[1].Error, Is.EqualTo(-(int)Errno.EIO), "a negative offset from the file system");
        Assert.That(log.Has(1121), Is.True);
    }

    [Test]
    public void CopyFileRangeRepliesWriteOutOr64BitOut()
    {
        var fs = Writable();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            W.CopyFileRange(4, TestFileSystem.Hello, 0x1002, 0, TestFileSystem.Hello, 0x2002, 100, 5, W.FUSE_COPY_FILE_RANGE),
            W.CopyFileRange(5, TestFileSystem.Hello, 0x1002, 6, TestFileSystem.Hello, 0x2002, 200, 1000));
        Assert.That((r[0].Error, r[0].Payload.Length, r[0].U32(0), r[0].U32(4)), Is.EqualTo((0, 8, 5U, 0U)), "fuse_write_out");
        Assert.That((r[1].Error, r[1].Payload.Length, r[1].U64(0)), Is.EqualTo((0, 8, 99UL)), "fuse_copy_file_range_out: to EOF of the now 105-byte file");
        Assert.That(fs.Calls, Is.EqualTo(new[]
        {
            "COPY_FILE_RANGE in=2 fhin=1002 offin=0 out=2 fhout=2002 offout=100 len=5 flags=0",
            "COPY_FILE_RANGE in=2 fhin=1002 offin=6 out=2 fhout=2002 offout=200 len=1000 flags=0",
        }));

        var over = new TestFileSystem { IsReadOnly = false, CopyOverclaim = 6 };
        Reply[] o = SessionHarness.RunAfterInit(over, W.CopyFileRange(4, TestFileSystem.Hello, 1, 0, TestFileSystem.Hello, 1, 100, 5));
        Assert.That(o.Single().Error, Is.EqualTo(-(int)Errno.EIO), "more copied than asked");
        var wide = new TestFileSystem { IsReadOnly = false, CopyOverclaim = 1UL << 32 };
        Reply[] w = SessionHarness.RunAfterInit(wide, W.CopyFileRange(4, TestFileSystem.Hello, 1, 0, TestFileSystem.Hello, 1, 100, 1UL << 33, W.FUSE_COPY_FILE_RANGE));
        Assert.That(w.Single().Error, Is.EqualTo(-(int)Errno.EIO), "COPY_FILE_RANGE cannot report 4 GiB in fuse_write_out");
    }

    [Test]
    public void FsyncdirReachesFsyncAsDirectory()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(fs, W.FsyncDir(4, 1, 0x2001, 1), W.FsyncDir(5, 1, 0x2001, 0));
        Assert.That(r.Select(x => (x.Error, x.Payload.Length)), Is.All.EqualTo((0, 0)));
        Assert.That(fs.Calls, Is.EqualTo(new[] { "FSYNCDIR node=1 fh=2001 datasync=True", "FSYNCDIR node=1 fh=2001 datasync=False" }));
    }

    [Test]
    public void OpenPassesOTruncAndKillSuidgid()
    {
        var fs = Writable();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Le.Request(14, 4, TestFileSystem.Hello, Le.U32(0x8201), Le.U32(1)),   // open_in: O_WRONLY|O_TRUNC|O_LARGEFILE, FUSE_OPEN_KILL_SUIDGID
            Le.Request(3, 5, TestFileSystem.Hello, Le.U32(0), Le.U32(0), Le.U64(0)));
        Assert.That(r[0].Error, Is.Zero);
        Assert.That(r[1].U64(16 + 8), Is.Zero, "truncated by OPEN (FUSE_ATOMIC_O_TRUNC)");
        Assert.That(fs.Calls, Is.EqualTo(new[] { "OPEN node=2 flags=8201 kill=True" }));
    }

    [TestCase(0UL)]
    [TestCase(1UL)]
    public void CreatedEntryWithNodeIdZeroOrRootIsEio(ulong node)
    {
        var fs = new TestFileSystem { IsReadOnly = false, CreatedNodeOverride = node };
        var (replies, log, _) = SessionHarness.Run(fs, [W.MkDir(4, 1, "d", 0x1ED, 0), W.Create(5, 1, "c", 0x8241, 0x81A4, 0)]);
        Assert.That(replies[1..].Select(x => (x.Error, x.Payload.Length)), Is.All.EqualTo((-(int)Errno.EIO, 0)));
        Assert.That(log.Entries.Count(e => e.Id.Id == 1121), Is.EqualTo(2));
    }
}
