using System.Buffers.Binary;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>fuse-iomap v7 through a whole FuseSession (FUSE-PROTOCOL.md §2.2-2.7): negotiation,
/// attr marking, CONFIG, BEGIN/END/IOEND, freeze/thaw/shutdown and the notifications.</summary>
public class IomapTests
{
    private const uint AttrIomapExclusive = (1U << 3) | (1U << 2);
    private const uint Iomap43InFlags2 = 1U << 11;

    internal static (Reply[] Replies, MemoryIomapFuseDevice Device, ListLogger Log, FuseSession Session) Run(TestFileSystem fs, IEnumerable<byte[]> requests, bool allowIomap = true, byte[]? init = null)
    {
        var device = new MemoryIomapFuseDevice(requests.Prepend(init ?? IomapFixtures.KernelInitIomap()));
        var (replies, log, session) = SessionHarness.Run(fs, device, () => device.Replies, new FuseSessionOptions { WorkerThreads = 1, AllowIomap = allowIomap });
        Assert.That(replies[0].Unique, Is.EqualTo(2UL), "first reply answers INIT");
        return (replies, device, log, session);
    }

    [Test]
    public void InitTakesIomapFromAMinor99KernelAndAnswersMinor99()
    {
        var (replies, _, _, session) = Run(new TestFileSystem { IsReadOnly = false }, []);
        Reply init = replies[0];
        Assert.That(init.Error, Is.Zero);
        Assert.That(init.U32(4), Is.EqualTo(99), "init_out.minor");
        Assert.That(init.U32(32) & Iomap43InFlags2, Is.EqualTo(Iomap43InFlags2), "flags2 bit 11 = FUSE_IOMAP");
        Assert.That(init.U32(12) & (1U << 30), Is.Not.Zero, "INIT_EXT");
        Assert.That(session.InitResult!.Value.Iomap, Is.True);
    }

    [Test]
    public void InitKeepsTheMainlinePathWhenIomapIsNotAllowedOrNotOfferedOrNotMinor99()
    {
        var (notAllowed, _, _, s1) = Run(new TestFileSystem(), [], allowIomap: false);
        Assert.That(notAllowed[0].U32(4), Is.EqualTo(45));
        Assert.That(notAllowed[0].U32(32) & Iomap43InFlags2, Is.Zero);
        Assert.That(s1.InitResult!.Value.Iomap, Is.False);

        // A fd without ADD_IOMAP: minor 99 but no bit 43 offered.
        var (notOffered, _, _, s2) = Run(new TestFileSystem(), [], init: IomapFixtures.KernelInitIomap(flags2: 0x000005FD));
        Assert.That(notOffered[0].U32(4), Is.EqualTo(45));
        Assert.That(s2.InitResult!.Value.Iomap, Is.False);

        // Bit 43 from a minor-45 kernel means nothing (§2.9 takeaway): not taken.
        var (mainline, _, _, s3) = Run(new TestFileSystem(), [], init: IomapFixtures.KernelInitIomap(minor: 45));
        Assert.That(mainline[0].U32(4), Is.EqualTo(45));
        Assert.That(mainline[0].U32(32) & Iomap43InFlags2, Is.Zero);
        Assert.That(s3.InitResult!.Value.Iomap, Is.False);
    }

    [Test]
    public void AFileSystemWithoutIomapOperationsNeverGetsIomap()
    {
        var reader = new FuseRequestReader(IomapFixtures.KernelInitIomap().AsSpan(40));
        FuseInitIn initIn = reader.Read<FuseInitIn>();
        var options = new FuseSessionOptions { AllowIomap = true };
        FuseInitNegotiator.Negotiate(initIn, options, writable: true, out FuseInitOut without, out _, out FuseInitResult r1, iomapCapable: false);
        FuseInitNegotiator.Negotiate(initIn, options, writable: true, out FuseInitOut with, out _, out FuseInitResult r2, iomapCapable: true);
        Assert.That(r1.Iomap, Is.False);
        Assert.That(without.Minor, Is.EqualTo(45));
        Assert.That(r2.Iomap, Is.True);
        Assert.That(with.Minor, Is.EqualTo(99));
        Assert.That(FuseInitNegotiator.FormatFlags(r2.TakenFlags), Does.Contain("IOMAP"));
    }

    [Test]
    public void RegularFilesAreMarkedIomapExclusiveOnlyUnderIomap()
    {
        byte[][] requests =
        [
            Fixtures.LookupHello(10),
            Le.Request(3, 11, TestFileSystem.Root, Le.Zeros(16)),                 // GETATTR of the root directory
            Le.Request(3, 12, TestFileSystem.Hello, Le.Zeros(16)),                // GETATTR of "hello"
            Fixtures.ReadDirPlus(13, 0, 4096),
        ];
        var (on, _, _, _) = Run(new TestFileSystem(), requests);
        Assert.That(on[1].U32(40 + 84), Is.EqualTo(AttrIomapExclusive), "LOOKUP hello: entry_out.attr.flags");
        Assert.That(on[1].U64(40), Is.EqualTo(IomapFixtures.HelloIno), "attr.ino is the file system's inode number");
        Assert.That(on[1].U32(40 + 80), Is.EqualTo(4096), "attr.blksize is the block size");
        Assert.That(on[2].U32(16 + 84), Is.Zero, "GETATTR of a directory: no flags");
        Assert.That(on[3].U32(16 + 84), Is.EqualTo(AttrIomapExclusive), "GETATTR of a regular file");
        byte[] dir = on[4].Payload;
        int marked = 0;
        for (int off = 0; off < dir.Length;)
        {
            uint mode = BinaryPrimitives.ReadUInt32LittleEndian(dir.AsSpan(off + 40 + 60));
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(dir.AsSpan(off + 40 + 84));
            Assert.That(flags, Is.EqualTo((mode & 0xF000) == 0x8000 ? AttrIomapExclusive : 0U), $"direntplus at {off}");
            marked += flags != 0 ? 1 : 0;
            uint namelen = BinaryPrimitives.ReadUInt32LittleEndian(dir.AsSpan(off + 128 + 16));
            off += FuseDirectoryWriter.DirentPlusSize((int)namelen);
        }

        Assert.That(marked, Is.EqualTo(1), "only hello is a regular file");

        var (off2, _, _, _) = Run(new TestFileSystem(), requests, allowIomap: false);
        Assert.That(off2[1].U32(40 + 84), Is.Zero);
        Assert.That(off2[3].U32(16 + 84), Is.Zero);
    }

    [Test]
    public void ConfigRegistersTheDeviceAndAnswersTheExactConfigOut()
    {
        var fs = new TestFileSystem();
        var (replies, device, _, _) = Run(fs, [IomapFixtures.Config(10)]);
        Reply r = replies[1];
        Assert.That(r.Error, Is.Zero);
        Assert.That(r.Payload, Has.Length.EqualTo(104), "sizeof(fuse_iomap_config_out)");
        Assert.That(device.Ioctls, Is.EqualTo(new[] { "BACKING_OPEN valid=True -> 1", "SET_BLOCKSIZE 1 4096" }));
        Assert.That(fs.Calls, Does.Contain($"IomapConfig maxbytes={long.MaxValue} open=None"));
        Assert.That(r.U64(0), Is.EqualTo(0x7FUL), "flags: SID|UUID|BLOCKSIZE|MAX_LINKS|TIME|MAXBYTES|CACHE_MAXBYTES");
        Assert.That(r.Payload[8..13], Is.EqualTo("test\0"u8.ToArray()), "s_id");
        Assert.That(r.Payload[13..40], Is.All.Zero, "s_id padding");
        Assert.That(r.Payload[40..56], Is.EqualTo(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()), "s_uuid");
        Assert.That(r.Payload[56], Is.EqualTo(16), "s_uuid_len");
        Assert.That(r.Payload[57..60], Is.All.Zero, "s_pad");
        Assert.That(r.U32(60), Is.EqualTo(4096), "s_blocksize");
        Assert.That(r.U32(64), Is.EqualTo(65000), "s_max_links");
        Assert.That(r.U32(68), Is.EqualTo(1), "s_time_gran");
        Assert.That((long)r.U64(72), Is.EqualTo(-(1L << 31)), "s_time_min");
        Assert.That((long)r.U64(80), Is.EqualTo((1L << 34) - 1), "s_time_max");
        Assert.That((long)r.U64(88), Is.EqualTo(1L << 44), "s_maxbytes");
        Assert.That(r.U32(96), Is.EqualTo(1U << 20), "cache_maxbytes");
        Assert.That(r.U32(100), Is.Zero, "tail padding");
    }

    [Test]
    public void ConfigSendsOnlyTheFieldsTheKernelAcceptsAndClampsMaxbytes()
    {
        // A kernel that knows only BLOCKSIZE|MAXBYTES (0x24) and has a 1 TiB MAX_LFS_FILESIZE.
        var (replies, _, _, _) = Run(new TestFileSystem(), [IomapFixtures.Config(10, flags: 0x24, maxbytes: 1L << 40)]);
        Assert.That(replies[1].U64(0), Is.EqualTo(0x24UL));
        Assert.That((long)replies[1].U64(88), Is.EqualTo(1L << 40), "s_maxbytes never above the kernel's");
    }

    [Test]
    public void BeginAnswersTheReadMappingAndAPureOverwriteWriteHalf()
    {
        var fs = new TestFileSystem();
        var (replies, _, _, _) = Run(fs, [IomapFixtures.Config(10), IomapFixtures.Begin(11, TestFileSystem.Hello, 0, 100, 12)]);
        Reply r = replies[2];
        Assert.That(r.Error, Is.Zero);
        byte[] expected = Le.Cat(
            IomapFixtures.Io(0, 4096, TestFileSystem.HelloAddr, 2, 0, 1),                  // read: MAPPED on dev 1
            IomapFixtures.Io(0, 4096, ulong.MaxValue, 255, 0, 0));                          // write: PURE_OVERWRITE
        Assert.That(r.Payload, Is.EqualTo(expected));
        Assert.That(fs.Calls, Does.Contain($"IomapBegin node=2 ino={IomapFixtures.HelloIno} op=0x0 pos=100 count=12"));
    }

    [Test]
    public void BeginForAWriteOverAHoleAnswersUnwrittenAndAReadOfAHoleAnswersHole()
    {
        var (replies, _, _, _) = Run(new TestFileSystem(), [
            IomapFixtures.Config(10),
            IomapFixtures.Begin(11, TestFileSystem.Hello, 0x80000000, 5000, 100),        // WRITEBACK
            IomapFixtures.Begin(12, TestFileSystem.Hello, 0x4, 8192, 1 << 20),            // REPORT
        ]);
        Assert.That(replies[2].Payload[..32], Is.EqualTo(IomapFixtures.Io(4096, 4096, TestFileSystem.NewAddrBase + 4096, 3, 2, 1)));
        Assert.That(replies[3].Payload[..32], Is.EqualTo(IomapFixtures.Io(8192, 4096, ulong.MaxValue, 0, 0, 0)));
        Assert.That(replies[3].Payload[32..], Is.EqualTo(IomapFixtures.Io(8192, 4096, ulong.MaxValue, 255, 0, 0)));
    }

    private static readonly object[] BadMappings =
    [
        new object[] { "misaligned offset", new FuseIomapMapping(512, 4096, TestFileSystem.HelloAddr, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, 0, 1) },
        new object[] { "empty", new FuseIomapMapping(0, 0, TestFileSystem.HelloAddr, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, 0, 1) },
        new object[] { "pos outside", new FuseIomapMapping(8192, 4096, TestFileSystem.HelloAddr, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, 0, 1) },
        new object[] { "unregistered dev", new FuseIomapMapping(0, 4096, TestFileSystem.HelloAddr, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, 0, 7) },
        new object[] { "mapped at NULL_ADDR", new FuseIomapMapping(0, 4096, ulong.MaxValue, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, 0, 1) },
        new object[] { "hole with a device", new FuseIomapMapping(0, 4096, 0, FuseIomapType.FUSE_IOMAP_TYPE_HOLE, 0, 1) },
        new object[] { "pure overwrite in the read half", FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_PURE_OVERWRITE, 0, 4096) },
        new object[] { "nocache", FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_NOCACHE, 0, 4096) },
        new object[] { "unknown type", FuseIomapMapping.WithoutDevice((FuseIomapType)9, 0, 4096) },
        new object[] { "size-changed flag", FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_HOLE, 0, 4096, FuseIomapFlags.FUSE_IOMAP_F_SIZE_CHANGED) },
        new object[] { "overflow", new FuseIomapMapping(0, ulong.MaxValue - 4095, TestFileSystem.HelloAddr, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, 0, 1) },
    ];

    [TestCaseSource(nameof(BadMappings))]
    public void AMappingTheKernelWouldRefuseIsAnsweredEio(string why, FuseIomapMapping read)
    {
        var fs = new TestFileSystem { ForcedRead = read };
        var (replies, _, log, _) = Run(fs, [IomapFixtures.Config(10), IomapFixtures.Begin(11, TestFileSystem.Hello, 0, 100, 12)]);
        Assert.That(replies[2].Error, Is.EqualTo(-(int)Errno.EIO), why);
        Assert.That(replies[2].Payload, Is.Empty);
        Assert.That(log.Entries.Any(e => e.Id.Id == 1123), Is.True, "logged");
    }

    [Test]
    public void BeginBeforeConfigIsEioAndAStaleInodeIsTheFileSystemsAnswer()
    {
        var (replies, _, _, _) = Run(new TestFileSystem(), [
            IomapFixtures.Begin(10, TestFileSystem.Hello, 0, 0, 12),
            IomapFixtures.Config(11),
            IomapFixtures.Begin(12, TestFileSystem.Hello, 0, 0, 12, attrIno: 999),
        ]);
        Assert.That(replies[1].Error, Is.EqualTo(-(int)Errno.EIO));
        Assert.That(replies[3].Error, Is.EqualTo(-(int)Errno.ESTALE));
    }

    [Test]
    public void EndIsDecodedFieldByFieldAndAnsweredEmpty()
    {
        var fs = new TestFileSystem();
        var (replies, _, _, _) = Run(fs, [IomapFixtures.Config(10), IomapFixtures.End(11, TestFileSystem.Hello)]);
        Assert.That(replies[2].Error, Is.Zero);
        Assert.That(replies[2].Payload, Is.Empty);
        Assert.That(fs.Calls, Does.Contain($"IomapEnd node=2 ino={IomapFixtures.HelloIno} op=0x1 pos=4096 count=100 written=100 map=4096+4096@0x201000 type=3 flags=0x102 dev=1"));
    }

    [Test]
    public void IoendAnswersTheNewSize()
    {
        var fs = new TestFileSystem();
        var (replies, _, _, _) = Run(fs, [IomapFixtures.Ioend(10, TestFileSystem.Hello), IomapFixtures.Ioend(11, TestFileSystem.Hello, flags: 0, error: -5)]);
        Assert.That(replies[1].Error, Is.Zero);
        Assert.That(replies[1].Payload, Is.EqualTo(Le.U64(4196)), "ioend_out.newsize = pos + written");
        Assert.That(fs.Calls, Does.Contain($"IomapIoend node=2 ino={IomapFixtures.HelloIno} flags=0x32 error=None pos=4096 written=100"));
        Assert.That(replies[2].Error, Is.EqualTo(-(int)Errno.EIO), "a failed write is answered with its error");
        Assert.That(fs.Calls, Does.Contain($"IomapIoend node=2 ino={IomapFixtures.HelloIno} flags=0x0 error=EIO pos=4096 written=100"));
    }

    [Test]
    public void FreezeUnfreezeAndShutdownReachTheFileSystem()
    {
        var fs = new TestFileSystem();
        var (replies, _, _, _) = Run(fs, [IomapFixtures.Freeze(10), IomapFixtures.Unfreeze(11), IomapFixtures.Shutdown(12)]);
        Assert.That(replies[1..].Select(r => (r.Unique, r.Error, r.Payload.Length)), Is.EqualTo(new[] { (10UL, 0, 0), (11UL, 0, 0), (12UL, 0, 0) }));
        Assert.That(fs.Calls, Is.SupersetOf(new[] { "FreezeFs unlinked=3", "UnfreezeFs", "ShutdownFs flags=0" }));
    }

    [Test]
    public void EveryIomapOpcodeIsEnosysWithoutIomap()
    {
        byte[][] all =
        [
            IomapFixtures.Config(10), IomapFixtures.Begin(11, TestFileSystem.Hello, 0, 0, 12), IomapFixtures.End(12, TestFileSystem.Hello),
            IomapFixtures.Ioend(13, TestFileSystem.Hello), IomapFixtures.Freeze(14), IomapFixtures.Unfreeze(15), IomapFixtures.Shutdown(16),
        ];
        var fs = new TestFileSystem();
        var (replies, device, _, _) = Run(fs, all, allowIomap: false);
        Assert.That(replies[1..].Select(r => r.Error), Is.All.EqualTo(-(int)Errno.ENOSYS));
        Assert.That(replies[1..].Select(r => r.Unique), Is.EqualTo(Enumerable.Range(10, 7).Select(i => (ulong)i)));
        Assert.That(fs.Calls, Is.Empty);
        Assert.That(device.Ioctls, Is.Empty);
    }

    [Test]
    public void NotificationsAreByteExactAndRefusedWithoutIomap()
    {
        var device = new MemoryIomapFuseDevice([IomapFixtures.KernelInitIomap()]);
        var session = new FuseSession(device, new TestFileSystem(), new FuseSessionOptions { WorkerThreads = 1, AllowIomap = true }, new ListLogger());
        session.Run();
        int before = device.Replies.Length;
        var read = new FuseIomapMapping(0, 4096, TestFileSystem.HelloAddr, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, 0, 1);
        Assert.That(session.NotifyIomapUpsertMappings(2, 12, read, FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_NOCACHE, 0, 4096)), Is.EqualTo(Errno.ENODEV), "after the session ended");

        // A session that is still initialized: drive INIT only through the handler path.
        var live = new MemoryIomapFuseDevice([]);
        var s2 = new FuseSession(live, new TestFileSystem(), new FuseSessionOptions { WorkerThreads = 1, AllowIomap = true }, new ListLogger());
        var writer = new FuseReplyWriter(1 << 16, live, new ListLogger());
        s2.ProcessRequest(IomapFixtures.KernelInitIomap(), writer);
        var nocache = FuseIomapMapping.WithoutDevice(FuseIomapType.FUSE_IOMAP_TYPE_NOCACHE, 0, 4096);
        Assert.That(s2.NotifyIomapUpsertMappings(2, 12, read, nocache), Is.EqualTo(Errno.EINVAL), "no device is registered before IOMAP_CONFIG");
        s2.ProcessRequest(IomapFixtures.Config(3), writer);
        Assert.That(live.Replies, Has.Length.EqualTo(2), "INIT and CONFIG replies; the refused UPSERT wrote nothing");

        // UPSERT halves are checked as the kernel checks them; a refused one writes nothing.
        Assert.That(s2.NotifyIomapUpsertMappings(2, 12, read with { Offset = 100 }, nocache), Is.EqualTo(Errno.EINVAL), "unaligned");
        Assert.That(s2.NotifyIomapUpsertMappings(2, 12, read with { Dev = 7 }, nocache), Is.EqualTo(Errno.EINVAL), "unregistered device");
        Assert.That(s2.NotifyIomapUpsertMappings(2, 12, read, nocache with { Dev = 1 }), Is.EqualTo(Errno.EINVAL), "NOCACHE naming a device");
        Assert.That(s2.NotifyIomapUpsertMappings(2, 12, read with { Type = FuseIomapType.FUSE_IOMAP_TYPE_RETRY_CACHE }, nocache), Is.EqualTo(Errno.EINVAL), "RETRY_CACHE");
        Assert.That(live.Replies, Has.Length.EqualTo(2));

        Assert.That(s2.NotifyIomapUpsertMappings(2, 12, read, nocache), Is.EqualTo(Errno.None));
        Assert.That(s2.NotifyIomapInvalMappings(2, 12, 8192, FuseAbi.FUSE_IOMAP_INVAL_TO_EOF), Is.EqualTo(Errno.None));
        Assert.That(s2.NotifyIomapDevInval(1, 0x5000, 0x3000), Is.EqualTo(Errno.None));
        byte[][] sent = live.Replies[2..];
        Assert.That(sent[0], Is.EqualTo(Le.Cat(
            Le.U32(96), Le.U32(100), Le.U64(0),                                       // out_header: len 16 + 80, error = code 100, unique 0
            Le.U64(2), Le.U64(12),                                                     // nodeid, attr_ino
            IomapFixtures.Io(0, 4096, TestFileSystem.HelloAddr, 2, 0, 1),              // read
            IomapFixtures.Io(0, 4096, ulong.MaxValue, 253, 0, 0))));                   // write: NOCACHE
        Assert.That(sent[1], Is.EqualTo(Le.Cat(
            Le.U32(64), Le.U32(101), Le.U64(0),                                       // out_header: 16 + 48, code 101
            Le.U64(2), Le.U64(12),                                                     // nodeid, attr_ino
            Le.U64(8192), Le.U64(ulong.MaxValue),                                      // read range: to EOF
            Le.U64(8192), Le.U64(ulong.MaxValue))));                                   // write range: to EOF
        Assert.That(sent[2], Is.EqualTo(Le.Cat(
            Le.U32(40), Le.U32(99), Le.U64(0),                                        // out_header: 16 + 24, code 99
            Le.U32(1), Le.U32(0),                                                      // dev, reserved
            Le.U64(0x5000), Le.U64(0x3000))));                                         // range

        var plain = new MemoryIomapFuseDevice([]);
        var s3 = new FuseSession(plain, new TestFileSystem(), new FuseSessionOptions { WorkerThreads = 1, AllowIomap = false }, new ListLogger());
        s3.ProcessRequest(IomapFixtures.KernelInitIomap(), new FuseReplyWriter(1 << 16, plain, new ListLogger()));
        Assert.That(s3.NotifyIomapDevInval(1, 0, 4096), Is.EqualTo(Errno.ENOSYS));
        Assert.That(s3.NotifyIomapInvalMappings(2, 12, 0, 4096), Is.EqualTo(Errno.ENOSYS));
        Assert.That(plain.Replies, Has.Length.EqualTo(1), "only the INIT reply");
        Assert.That(before, Is.EqualTo(1));
    }
}
