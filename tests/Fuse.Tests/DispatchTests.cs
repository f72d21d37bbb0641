using System.Buffers.Binary;
using System.Text;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>Requests through the whole session (reader, dispatcher, reply writer) with an
/// in-memory device, checking reply bytes.</summary>
public class DispatchTests
{
    private static readonly ulong HourSeconds = 3600;

    [Test]
    public void LookupReplyIsAnEntryOutWithTimeouts()
    {
        var fs = new TestFileSystem();
        Reply r = SessionHarness.RunAfterInit(fs, Fixtures.LookupHello(4)).Single();
        Assert.Multiple(() =>
        {
            Assert.That(r.Unique, Is.EqualTo(4UL));
            Assert.That(r.Error, Is.Zero);
            Assert.That(r.Payload, Has.Length.EqualTo(128), "fuse_entry_out");
            Assert.That(r.U64(0), Is.EqualTo(TestFileSystem.Hello), "nodeid");
            Assert.That(r.U64(8), Is.EqualTo(7UL), "generation");
            Assert.That(r.U64(16), Is.EqualTo(HourSeconds), "entry_valid");
            Assert.That(r.U64(24), Is.EqualTo(HourSeconds), "attr_valid");
            Assert.That(r.U32(32), Is.Zero, "entry_valid_nsec");
            Assert.That(r.U32(36), Is.Zero, "attr_valid_nsec");
            Assert.That(r.U64(40), Is.EqualTo(TestFileSystem.Hello + 10), "attr.ino");
            Assert.That(r.U64(48), Is.EqualTo(12UL), "attr.size");
            Assert.That(r.U64(56), Is.EqualTo(8UL), "attr.blocks");
            Assert.That(r.U64(72), Is.EqualTo((ulong)TestFileSystem.Mtime), "attr.mtime");
            Assert.That(r.U32(92), Is.EqualTo(123456789), "attr.mtimensec");
            Assert.That(r.U32(100), Is.EqualTo(0x81A4), "attr.mode");
            Assert.That(r.U32(120), Is.EqualTo(4096), "attr.blksize");
        });
        Assert.That(fs.LookupCounts[TestFileSystem.Hello], Is.EqualTo(1));
    }

    [Test]
    public void SubSecondTimeoutsGoIntoNsecFields()
    {
        var fs = new TestFileSystem();
        var options = new FuseSessionOptions { WorkerThreads = 1, EntryTimeout = TimeSpan.FromMilliseconds(1500), AttrTimeout = TimeSpan.Zero };
        var (replies, _, _) = SessionHarness.Run(fs, [Fixtures.LookupHello(4)], options);
        Reply r = replies[1];
        Assert.That(r.U64(16), Is.EqualTo(1UL));
        Assert.That(r.U32(32), Is.EqualTo(500_000_000));
        Assert.That(r.U64(24), Is.Zero);
        Assert.That(r.U32(36), Is.Zero);
    }

    [Test]
    public void LookupErrorsAndExceptions()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Le.Request(1, 4, 1, Le.Name("nothere")),
            Le.Request(1, 5, 1, Le.Name("boom")),
            Le.Request(1, 6, 2, Le.Name("x")));
        Assert.That(r.Select(x => (x.Unique, x.Error, x.Payload.Length)), Is.EqualTo(new[]
        {
            (4UL, -(int)Errno.ENOENT, 0),
            (5UL, -(int)Errno.EUCLEAN, 0), // InvalidDataException through TranslateException
            (6UL, -(int)Errno.ENOTDIR, 0),
        }));
    }

    [Test]
    public void GetAttrStatxAndStatfs()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Le.Request(3, 4, 2, Le.U32(0), Le.U32(0), Le.U64(0)),                             // GETATTR hello: getattr_flags, dummy, fh
            Le.Request(52, 5, 2, Le.U32(0), Le.U32(0), Le.U64(0), Le.U32(0), Le.U32(0xFFF)),  // STATX hello: flags, reserved, fh, sx_flags, sx_mask
            Le.Request(52, 6, 1, Le.U32(0), Le.U32(0), Le.U64(0), Le.U32(0), Le.U32(0xFFF)),  // STATX root (no btime)
            Le.Request(17, 7, 1),                                                            // STATFS
            Le.Request(3, 8, TestFileSystem.Corrupt, Le.U32(0), Le.U32(0), Le.U64(0)));      // GETATTR that throws
        Assert.That(r[0].Payload, Has.Length.EqualTo(104));
        Assert.That(r[0].U64(0), Is.EqualTo(HourSeconds), "attr_valid");
        Assert.That(r[0].U64(16), Is.EqualTo(TestFileSystem.Hello + 10), "attr.ino");
        Assert.That(r[0].U32(16 + 60), Is.EqualTo(0x81A4), "attr.mode");

        Assert.That(r[1].Payload, Has.Length.EqualTo(288));
        Assert.That(r[1].U64(0), Is.EqualTo(HourSeconds), "attr_valid");
        int sx = 32;
        Assert.That(r[1].U32(sx + 0), Is.EqualTo(0xFFF), "mask: BASIC_STATS|BTIME");
        Assert.That(r[1].U32(sx + 4), Is.EqualTo(4096), "blksize");
        Assert.That(r[1].U32(sx + 16), Is.EqualTo(1), "nlink");
        Assert.That(r[1].U16(sx + 28), Is.EqualTo(0x81A4), "mode");
        Assert.That(r[1].U64(sx + 32), Is.EqualTo(TestFileSystem.Hello + 10), "ino");
        Assert.That(r[1].U64(sx + 40), Is.EqualTo(12UL), "size");
        Assert.That(r[1].U64(sx + 80), Is.EqualTo(1_600_000_000UL), "btime.tv_sec");
        Assert.That(r[1].U32(sx + 88), Is.EqualTo(42), "btime.tv_nsec");
        Assert.That(r[1].U64(sx + 112), Is.EqualTo((ulong)TestFileSystem.Mtime), "mtime.tv_sec");
        Assert.That(r[1].U32(sx + 120), Is.EqualTo(123456789), "mtime.tv_nsec");
        Assert.That(r[2].U32(sx + 0), Is.EqualTo(0x7FF), "root: no STATX_BTIME");
        Assert.That(r[2].U64(sx + 80), Is.Zero);

        Assert.That(r[3].Payload, Has.Length.EqualTo(80));
        Assert.That(new[] { r[3].U64(0), r[3].U64(8), r[3].U64(16), r[3].U64(24), r[3].U64(32) }, Is.EqualTo(new ulong[] { 1000, 500, 400, 100, 50 }));
        Assert.That(new[] { r[3].U32(40), r[3].U32(44), r[3].U32(48) }, Is.EqualTo(new uint[] { 4096, 255, 4096 }));

        Assert.That(r[4].Error, Is.EqualTo(-(int)Errno.EUCLEAN));
    }

    [Test]
    public void StatxSplitsRdevLikeNewDecodeDev()
    {
        // new_encode_dev(MKDEV(259, 70000)): minor low 8 bits | major << 8 | (minor & ~0xff) << 12.
        uint major = 259, minor = 70000;
        uint rdev = (minor & 0xFF) | (major << 8) | ((minor & ~0xFFU) << 12);
        var attr = new FuseAttr { Rdev = rdev };
        var o = FuseSession.MakeStatxOut(attr, default, (0, 0));
        Assert.That((o.Stat.RdevMajor, o.Stat.RdevMinor), Is.EqualTo((major, minor)));
    }

    [Test]
    public void ReadLinkOpenReadRelease()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Le.Request(5, 4, TestFileSystem.LinkNode),                                          // READLINK
            Le.Request(14, 5, TestFileSystem.Hello, Le.U32(0x8000), Le.U32(0)),             // OPEN: flags, open_flags
            Le.Request(15, 6, TestFileSystem.Hello, Fixtures.ReadIn(0x1002, 0, 4096)),     // READ whole file
            Le.Request(15, 7, TestFileSystem.Hello, Fixtures.ReadIn(0x1002, 6, 3)),        // READ "wor"
            Le.Request(15, 8, TestFileSystem.Hello, Fixtures.ReadIn(0x1002, 100, 10)),     // READ past EOF
            Le.Request(25, 9, TestFileSystem.Hello, Le.U64(0x1002), Le.U32(0), Le.U32(0), Le.U64(0)), // FLUSH
            Le.Request(18, 10, TestFileSystem.Hello, Le.U64(0x1002), Le.U32(0), Le.U32(0), Le.U64(0)), // RELEASE
            Le.Request(14, 11, TestFileSystem.Root, Le.U32(0), Le.U32(0)));                // OPEN a directory
        Assert.That(Encoding.ASCII.GetString(r[0].Payload), Is.EqualTo("hello"));
        Assert.That(r[1].Payload, Has.Length.EqualTo(16));
        Assert.That((r[1].U64(0), r[1].U32(8), r[1].U32(12)), Is.EqualTo((0x1002UL, 2U, 0U)), "fh, FOPEN_KEEP_CACHE, backing_id");
        Assert.That(r[2].Payload, Is.EqualTo(TestFileSystem.HelloData), "a short READ reply is the data only");
        Assert.That(Encoding.ASCII.GetString(r[3].Payload), Is.EqualTo("wor"));
        Assert.That((r[4].Error, r[4].Payload.Length), Is.EqualTo((0, 0)), "EOF: empty success");
        Assert.That((r[5].Error, r[5].Payload.Length), Is.EqualTo((0, 0)));
        Assert.That((r[6].Error, r[6].Payload.Length), Is.EqualTo((0, 0)));
        Assert.That(fs.Released, Is.EqualTo(new[] { 0x1002UL }));
        Assert.That(r[7].Error, Is.EqualTo(-(int)Errno.EISDIR));
    }

    [Test]
    public void ReadDirRecordsAreAlignedAndComplete()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Le.Request(27, 4, 1, Le.U32(0x18800), Le.U32(0)),            // OPENDIR root
            Le.Request(28, 5, 1, Fixtures.ReadIn(0x2001, 0, 4096)),      // READDIR from cookie 0
            Le.Request(28, 6, 1, Fixtures.ReadIn(0x2001, 4, 4096)),      // READDIR at the end
            Le.Request(29, 7, 1, Le.U64(0x2001), Le.U32(0), Le.U32(0), Le.U64(0))); // RELEASEDIR
        Assert.That(r[0].U64(0), Is.EqualTo(0x2001UL));
        byte[] p = r[1].Payload;

        // ".": 24 + 1 -> 32; "..": 32; "hello": 24 + 5 -> 32; "link": 24 + 4 -> 32.
        Assert.That(p, Has.Length.EqualTo(128));
        var names = new List<(ulong Ino, ulong Off, uint Type, string Name)>();
        for (int pos = 0; pos < p.Length;)
        {
            uint namelen = BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(pos + 16));
            names.Add((BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(pos)), BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(pos + 8)),
                BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(pos + 20)), Encoding.ASCII.GetString(p, pos + 24, (int)namelen)));
            int rec = (24 + (int)namelen + 7) & ~7;
            Assert.That(p.AsSpan(pos + 24 + (int)namelen, rec - 24 - (int)namelen).ToArray(), Is.All.EqualTo(0), "padding is zero");
            pos += rec;
        }

        Assert.That(names, Is.EqualTo(new[] { (11UL, 1UL, 4U, "."), (11UL, 2UL, 4U, ".."), (12UL, 3UL, 8U, "hello"), (13UL, 4UL, 10U, "link") }));
        Assert.That((r[2].Error, r[2].Payload.Length), Is.EqualTo((0, 0)), "end of directory");
        Assert.That(r[3].Error, Is.Zero);
        Assert.That(fs.Released, Is.EqualTo(new[] { 0x2001UL }));
    }

    [Test]
    public void ReadDirPlusCountsLookupsOnlyForRecordsThatFit()
    {
        // 10 extra files: ".", "..", "hello", "link", f000..f009. Each direntplus is 160 bytes
        // (names of 1..8 bytes). A 700-byte buffer holds 4 records: ".", "..", "hello", "link".
        var fs = new TestFileSystem { ExtraFiles = 10 };
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Fixtures.ReadDirPlus(4, 0, 700),
            Fixtures.ReadDirPlus(5, 4, 700),
            Fixtures.ReadDirPlus(6, 8, 100000));
        Assert.That(r[0].Payload, Has.Length.EqualTo(640));
        Assert.That(r[1].Payload, Has.Length.EqualTo(640));
        Assert.That(r[2].Payload, Has.Length.EqualTo(960), "the remaining six; size clamps to the buffer");

        // "." and ".." carry nodeid 0 and no entry timeouts; "hello" a full entry.
        Assert.That(r[0].U64(0), Is.Zero, "'.' entry_out.nodeid");
        Assert.That(r[0].U64(16), Is.Zero, "'.' entry_valid");
        Assert.That(r[0].U64(128), Is.EqualTo(11UL), "'.' dirent.ino");
        Assert.That(Encoding.ASCII.GetString(r[0].Payload, 152, 1), Is.EqualTo("."));
        int hello = 2 * 160;
        Assert.That(r[0].U64(hello), Is.EqualTo(TestFileSystem.Hello), "entry_out.nodeid");
        Assert.That(r[0].U64(hello + 16), Is.EqualTo(HourSeconds), "entry_valid");
        Assert.That(r[0].U64(hello + 40), Is.EqualTo(12UL), "attr.ino");
        Assert.That(r[0].U64(hello + 128), Is.EqualTo(12UL), "dirent.ino");
        Assert.That(r[0].U64(hello + 136), Is.EqualTo(3UL), "dirent.off");
        Assert.That(r[0].U32(hello + 144), Is.EqualTo(5), "dirent.namelen");
        Assert.That(r[0].U32(hello + 148), Is.EqualTo(8), "dirent.type DT_REG");
        Assert.That(Encoding.ASCII.GetString(r[0].Payload, hello + 152, 5), Is.EqualTo("hello"));

        // Every node that went out exactly once has a lookup count of 1; nothing was counted
        // for the records that did not fit.
        Assert.That(fs.LookupCounts.Keys.Order(), Is.EqualTo(new ulong[] { 2, 3, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109 }));
        Assert.That(fs.LookupCounts.Values, Is.All.EqualTo(1));
    }

    [Test]
    public void DirectoryWriterRefusesWhatDoesNotFitAndWritesNothing()
    {
        byte[] buffer = new byte[200];
        buffer.AsSpan().Fill(0xAA);
        var w = new FuseDirectoryWriter(buffer, plus: true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        var e = new FuseEntry(5, 1, new FuseAttr { Ino = 5 });
        Assert.That(w.TryAddPlus(e, 1, 8, "a"u8), Is.True);
        Assert.That(w.Length, Is.EqualTo(160));
        Assert.That(w.TryAddPlus(e, 2, 8, "b"u8), Is.False);
        Assert.That(w.Length, Is.EqualTo(160));
        Assert.That(buffer[160..], Is.All.EqualTo(0xAA), "a refused record leaves the buffer untouched");

        var plain = new FuseDirectoryWriter(new byte[40], plus: false, TimeSpan.Zero, TimeSpan.Zero);
        Assert.That(plain.TryAdd(1, 1, 4, "12345678"u8), Is.True);
        Assert.That(plain.TryAdd(1, 2, 4, "x"u8), Is.False, "32 + 32 > 40");
        Assert.That(plain.Length, Is.EqualTo(32));
    }

    [Test]
    public void XattrSizeProbeRangeAndValue()
    {
        var fs = new TestFileSystem();
        byte[] Get(ulong unique, uint size, string name) => Le.Request(22, unique, TestFileSystem.Hello, Le.U32(size), Le.U32(0), Le.Name(name));
        byte[] List(ulong unique, uint size) => Le.Request(23, unique, TestFileSystem.Hello, Le.U32(size), Le.U32(0));
        Reply[] r = SessionHarness.RunAfterInit(fs, Get(4, 0, "user.test"), Get(5, 2, "user.test"), Get(6, 64, "user.test"), Get(7, 64, "user.none"), List(8, 0), List(9, 3), List(10, 64));
        Assert.That((r[0].Error, r[0].Payload.Length, r[0].U32(0), r[0].U32(4)), Is.EqualTo((0, 8, 5U, 0U)), "fuse_getxattr_out.size");
        Assert.That(r[1].Error, Is.EqualTo(-(int)Errno.ERANGE));
        Assert.That(Encoding.ASCII.GetString(r[2].Payload), Is.EqualTo("value"));
        Assert.That(r[3].Error, Is.EqualTo(-(int)Errno.ENODATA));
        Assert.That(r[4].U32(0), Is.EqualTo(10));
        Assert.That(r[5].Error, Is.EqualTo(-(int)Errno.ERANGE));
        Assert.That(Encoding.ASCII.GetString(r[6].Payload), Is.EqualTo("user.test\0"));
    }

    [Test]
    public void AccessFsyncSyncfsAndInterrupt()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Le.Request(34, 4, 2, Le.U32(4), Le.U32(0)),                  // ACCESS R_OK
            Le.Request(34, 5, 2, Le.U32(2), Le.U32(0)),                  // ACCESS W_OK
            Le.Request(36, 6, 0, Le.U64(4)),                             // INTERRUPT: never answered
            Le.Request(20, 7, 2, Le.U64(1), Le.U32(1), Le.U32(0)),       // FSYNC fdatasync
            Le.Request(20, 8, 2, Le.U64(1), Le.U32(0), Le.U32(0)),       // FSYNC full (the test FS says EIO)
            Le.Request(30, 9, 1, Le.U64(1), Le.U32(0), Le.U32(0)),       // FSYNCDIR
            Le.Request(50, 10, 1, Le.U64(0)));                           // SYNCFS
        Assert.That(r.Select(x => (x.Unique, x.Error)), Is.EqualTo(new[]
        {
            (4UL, 0), (5UL, -(int)Errno.EROFS), (7UL, 0), (8UL, -(int)Errno.EIO), (9UL, 0), (10UL, 0),
        }));
    }

    [TestCase(31u)]   // GETLK
    [TestCase(37u)]   // BMAP (IOCTL is served: IoctlDispatchTests; LSEEK: WriteDispatchTests)
    [TestCase(4095u)] // unknown
    public void OtherOpcodesAnswerEnosys(uint opcode)
    {
        Reply[] r = SessionHarness.RunAfterInit(new TestFileSystem(), Le.Request(opcode, 4, 1, Le.Zeros(48)));
        Assert.That(r.Single().Error, Is.EqualTo(-(int)Errno.ENOSYS));
    }

    [Test]
    public void ForgetAndBatchForgetAreAppliedAndNeverAnswered()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Fixtures.LookupHello(4),
            Fixtures.LookupHello(5),
            Le.Request(2, 6, TestFileSystem.Hello, Le.U64(1)),            // FORGET nlookup 1
            Le.Request(42, 7, 0, Le.U32(2), Le.U32(0),                   // BATCH_FORGET count 2, dummy
                Le.U64(TestFileSystem.Hello), Le.U64(1),                 // forget_one: nodeid, nlookup
                Le.U64(TestFileSystem.LinkNode), Le.U64(0)),                 // forget_one: nodeid, nlookup
            Le.Request(42, 8, 0, Le.U32(1000), Le.U32(0), Le.U64(3), Le.U64(1))); // count beyond the body: dropped
        Assert.That(r.Select(x => x.Unique), Is.EqualTo(new[] { 4UL, 5UL }), "FORGET/BATCH_FORGET get no reply");
        Assert.That(fs.Forgets, Is.EqualTo(new[] { (2UL, 1UL), (2UL, 1UL), (3UL, 0UL) }));
        Assert.That(fs.LookupCounts[TestFileSystem.Hello], Is.Zero);
    }

    [Test]
    public void DestroyIsAnsweredAndEndsTheSession()
    {
        var fs = new TestFileSystem();
        var (replies, log, _) = SessionHarness.Run(fs, [Le.Request(38, 4, 0), Fixtures.LookupHello(5)], new FuseSessionOptions { WorkerThreads = 1 });
        Assert.That(replies.Select(x => (x.Unique, x.Error)), Is.EqualTo(new[] { (2UL, 0), (4UL, 0) }), "the request after DESTROY is not read");
        Assert.That(fs.Destroyed, Is.True);
        Assert.That(log.Entries.Any(e => e.Id.Id == 1116 && e.Text.Contains("DESTROY")), Is.True);
    }

    [Test]
    public void ManyWorkersAnswerEveryRequestExactlyOnce()
    {
        var fs = new TestFileSystem { ExtraFiles = 3 };
        var requests = new List<byte[]>();
        for (ulong u = 100; u < 1100; u++)
        {
            requests.Add((u % 3) switch
            {
                0 => Fixtures.LookupHello(u),
                1 => Le.Request(15, u, TestFileSystem.Hello, Fixtures.ReadIn(1, 0, 4096)),
                _ => Le.Request(2, u, TestFileSystem.Hello, Le.U64(1)), // FORGET: no reply
            });
        }

        var (replies, _, _) = SessionHarness.Run(fs, requests, new FuseSessionOptions { WorkerThreads = 8 });
        ulong[] expected = [2UL, .. Enumerable.Range(100, 1000).Select(i => (ulong)i).Where(u => u % 3 != 2)];
        Assert.That(replies.Select(x => x.Unique).Order(), Is.EqualTo(expected));
        Assert.That(replies.Where(x => x.Unique % 3 == 1 && x.Unique != 2).Select(x => x.Payload.Length).Distinct(), Is.EqualTo(new[] { 12 }));
    }
}
