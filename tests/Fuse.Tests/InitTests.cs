using System.Runtime.InteropServices;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

public class InitTests
{
    /// <summary>Flags taken from the 6.18 offer: ASYNC_READ 0, BIG_WRITES 5, DO_READDIRPLUS 13,
    /// READDIRPLUS_AUTO 14, ASYNC_DIO 15, PARALLEL_DIROPS 18, POSIX_ACL 20, MAX_PAGES 22,
    /// CACHE_SYMLINKS 23, EXPLICIT_INVAL_DATA 25, INIT_EXT 30.</summary>
    private const uint TakenFrom618 = 0x42D4E021;

    /// <summary>Writable: also ATOMIC_O_TRUNC 3, DONT_MASK 6, WRITEBACK_CACHE 16, HANDLE_KILLPRIV_V2 28,
    /// SETXATTR_EXT 29.</summary>
    private const uint TakenFrom618Writable = TakenFrom618 | (1U << 3) | (1U << 6) | (1U << 16) | (1U << 28) | (1U << 29);

    [Test]
    public void NegotiatesTheExact618InitRequest()
    {
        FuseInHeader header = MemoryMarshal.Read<FuseInHeader>(Fixtures.KernelInit618);
        var reader = new FuseRequestReader(FuseRequestReader.GetBody(Fixtures.KernelInit618, header));
        FuseInitIn initIn = reader.Read<FuseInitIn>();
        Errno rc = FuseInitNegotiator.Negotiate(initIn, new FuseSessionOptions(), writable: false, out FuseInitOut o, out int replySize, out FuseInitResult result);

        Assert.That(rc, Is.EqualTo(Errno.None));
        Assert.That(replySize, Is.EqualTo(64));
        Assert.That(result, Is.EqualTo(new FuseInitResult(7, 45, 0x000005FD_73FFFFFBUL, TakenFrom618, 1048576, 256)));
        Assert.That(o.Flags, Is.EqualTo(TakenFrom618));
        Assert.That(o.Flags & (1U << 16), Is.Zero, "no WRITEBACK_CACHE");
        Assert.That(o.Flags & (1U << 28), Is.Zero, "no HANDLE_KILLPRIV_V2");
    }

    [Test]
    public void WritableFileSystemTakesTheWriteFlags()
    {
        var fs = new TestFileSystem { IsReadOnly = false };
        var (replies, log, session) = SessionHarness.Run(fs, []);
        Reply r = replies[0];
        Assert.That(r.U32(12), Is.EqualTo(TakenFrom618Writable), "flags");
        Assert.That(r.U32(32), Is.Zero, "flags2");
        Assert.That(r.U32(20), Is.EqualTo(1048576), "max_write: 1 MiB");
        Assert.That(r.U16(28), Is.EqualTo(256), "max_pages");
        Assert.That(session.InitResult!.Value.TakenFlags, Is.EqualTo((ulong)TakenFrom618Writable));
        string taken = log.Entries.Single(e => e.Id.Id == 1102).Text;
        Assert.That(taken, Does.Contain("WRITEBACK_CACHE").And.Contain("ATOMIC_O_TRUNC").And.Contain("HANDLE_KILLPRIV_V2").And.Contain("SETXATTR_EXT").And.Contain("PARALLEL_DIROPS").And.Contain("POSIX_ACL"));
    }

    [Test]
    public void WritebackCacheCanBeTurnedOffByOptions()
    {
        var fs = new TestFileSystem { IsReadOnly = false };
        var (replies, _, _) = SessionHarness.Run(fs, [], new FuseSessionOptions { WorkerThreads = 1, WritebackCache = false });
        Assert.That(replies[0].U32(12), Is.EqualTo(TakenFrom618Writable & ~(1U << 16)));

        // Read-only ignores the option: none of the write flags.
        var (ro, _, _) = SessionHarness.Run(new TestFileSystem(), [], new FuseSessionOptions { WorkerThreads = 1, WritebackCache = true });
        Assert.That(ro[0].U32(12), Is.EqualTo(TakenFrom618));
    }

    [Test]
    public void WriteFlagsAreTakenOnlyWhenOffered()
    {
        // A kernel offering neither WRITEBACK_CACHE nor SETXATTR_EXT.
        var (replies, _, _) = SessionHarness.Run(new TestFileSystem { IsReadOnly = false }, [WriteFixtures.InitWithout((1U << 16) | (1U << 29), 0)], init: false);
        Assert.That(replies[0].U32(12), Is.EqualTo(TakenFrom618Writable & ~((1U << 16) | (1U << 29))));
    }

    [Test]
    public void InitReplyBytesFieldByField()
    {
        var fs = new TestFileSystem();
        var (replies, log, session) = SessionHarness.Run(fs, []);
        Assert.That(replies, Has.Length.EqualTo(1));
        Reply r = replies[0];
        Assert.Multiple(() =>
        {
            Assert.That(r.Len, Is.EqualTo(80), "out.len: 16 + fuse_init_out 64");
            Assert.That(r.Error, Is.Zero, "out.error");
            Assert.That(r.Unique, Is.EqualTo(2UL), "out.unique");
            Assert.That(r.U32(0), Is.EqualTo(7), "major");
            Assert.That(r.U32(4), Is.EqualTo(45), "minor");
            Assert.That(r.U32(8), Is.EqualTo(131072), "max_readahead: the kernel's");
            Assert.That(r.U32(12), Is.EqualTo(TakenFrom618), "flags");
            Assert.That(r.U16(16), Is.EqualTo(64), "max_background");
            Assert.That(r.U16(18), Is.EqualTo(48), "congestion_threshold");
            Assert.That(r.U32(20), Is.EqualTo(1048576), "max_write: 256 pages");
            Assert.That(r.U32(24), Is.EqualTo(1), "time_gran");
            Assert.That(r.U16(28), Is.EqualTo(256), "max_pages");
            Assert.That(r.U16(30), Is.Zero, "map_alignment");
            Assert.That(r.U32(32), Is.Zero, "flags2: nothing above bit 31 taken");
            Assert.That(r.U32(36), Is.Zero, "max_stack_depth");
            Assert.That(r.U16(40), Is.Zero, "request_timeout");
            Assert.That(r.Payload[42..64], Is.All.EqualTo(0), "unused");
        });
        Assert.That(fs.InitSeen, Is.EqualTo(session.InitResult));
        Assert.That(log.Has(1100) && log.Has(1101) && log.Has(1102) && log.Has(1103), Is.True, "version, offered, taken and limits are logged");
        string taken = log.Entries.Single(e => e.Id.Id == 1102).Text;
        Assert.That(taken, Does.Contain("0x0000000042D4E021").And.Contain("MAX_PAGES").And.Contain("DO_READDIRPLUS").And.Not.Contain("WRITEBACK_CACHE"));
    }

    [Test]
    public void InitializedEventFiresOnceAfterTheReply()
    {
        var device = new MemoryFuseDevice([Fixtures.KernelInit618]);
        var session = new FuseSession(device, new TestFileSystem(), new FuseSessionOptions { WorkerThreads = 3 }, new ListLogger());
        var seen = new List<(FuseInitResult Result, int RepliesSoFar)>();
        session.Initialized += r => seen.Add((r, device.Replies.Length));
        session.Run();
        Assert.That(seen, Has.Count.EqualTo(1));
        Assert.That(seen[0].RepliesSoFar, Is.EqualTo(1), "raised after the INIT reply was written");
        Assert.That(seen[0].Result.MaxPages, Is.EqualTo(256));
    }

    [Test]
    public void ExtraWorkersStartOnlyAfterTheInitializedCallback()
    {
        // The kernel waits for the INIT reply inside mount(2) and the helper for READY (sent by
        // the Initialized callback): worker threads and their buffers must not delay either.
        var device = new MemoryFuseDevice([Fixtures.KernelInit618]);
        var session = new FuseSession(device, new TestFileSystem(), new FuseSessionOptions { WorkerThreads = 3 }, new ListLogger());
        int? startedDuringCallback = null;
        session.Initialized += _ => startedDuringCallback = session.ExtraWorkersStarted;
        session.Run();
        Assert.That(startedDuringCallback, Is.Zero, "no extra worker before the callback returned");
        Assert.That(session.ExtraWorkersStarted, Is.EqualTo(2), "both extra workers started after it");
    }

    [Test]
    public void OptionsDriveMaxPagesAndTimeGranularity()
    {
        var fs = new TestFileSystem();
        var (replies, _, _) = SessionHarness.Run(fs, [], new FuseSessionOptions { WorkerThreads = 1, MaxPages = 64, TimeGranularityNs = 1000 });
        Assert.That(replies[0].U32(20), Is.EqualTo(64 * 4096), "max_write");
        Assert.That(replies[0].U16(28), Is.EqualTo(64), "max_pages");
        Assert.That(replies[0].U32(24), Is.EqualTo(1000), "time_gran");
    }

    [Test]
    public void RefusesMajorOtherThan7WithEprotoAndStops()
    {
        byte[] init = Fixtures.KernelInit618;
        init[40] = 8; // init_in.major = 8
        var fs = new TestFileSystem();

        // The LOOKUP after the refused INIT is never read: the session has stopped.
        var (replies, log, session) = SessionHarness.Run(fs, [init, Fixtures.LookupHello(4)], init: false);
        Assert.That(replies, Has.Length.EqualTo(1));
        Assert.That(replies[0].Error, Is.EqualTo(-(int)Errno.EPROTO));
        Assert.That(replies[0].Unique, Is.EqualTo(2UL));
        Assert.That(fs.InitSeen, Is.Null);
        Assert.That(session.InitResult, Is.Null);
        Assert.That(log.Has(1104), Is.True);
    }

    [Test]
    public void OldKernelMinorGetsCompatReplySizeAndNoFlags2()
    {
        // A 7.22 kernel: 16-byte fuse_init_in, no INIT_EXT.
        byte[] init = Le.Cat(
            Le.InHeader(26, 2, 0, 16, 0, 0, 0),
            Le.U32(7),           // major
            Le.U32(22),          // minor
            Le.U32(65536),       // max_readahead
            Le.U32(0x0000FFFF)); // flags: bits 0..15
        var (replies, _, session) = SessionHarness.Run(new TestFileSystem(), [init], init: false);
        Assert.That(replies[0].Error, Is.Zero);
        Assert.That(replies[0].Payload, Has.Length.EqualTo(24), "FUSE_COMPAT_22_INIT_OUT_SIZE");
        Assert.That(replies[0].U32(4), Is.EqualTo(22), "minor = min(45, 22)");
        Assert.That(replies[0].U32(12), Is.EqualTo(0x0000E021), "ASYNC_READ, BIG_WRITES, DO_READDIRPLUS, READDIRPLUS_AUTO, ASYNC_DIO");
        Assert.That(session.InitResult!.Value.MaxPages, Is.EqualTo(32), "kernel default without MAX_PAGES");
    }

    [Test]
    public void RequestsBeforeInitGetEio()
    {
        var (replies, log, _) = SessionHarness.Run(new TestFileSystem(), [Fixtures.LookupHello(9), Fixtures.KernelInit618], init: false);
        Assert.That(replies[0].Unique, Is.EqualTo(9UL));
        Assert.That(replies[0].Error, Is.EqualTo(-(int)Errno.EIO));
        Assert.That(replies[1].Error, Is.Zero);
        Assert.That(log.Has(1119), Is.True);
    }

    [Test]
    public void FlagNamesForLogs()
    {
        Assert.That(FuseInitNegotiator.FormatFlags(0), Is.EqualTo("none"));
        Assert.That(FuseInitNegotiator.FormatFlags((1UL << 0) | (1UL << 22) | (1UL << 43) | (1UL << 44)), Is.EqualTo("ASYNC_READ|MAX_PAGES|IOMAP|bit44"));
    }
}
