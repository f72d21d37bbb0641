using System.Collections.Concurrent;
using System.Text;
using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>FUSE_NOTIFY_INVAL_INODE, INVAL_ENTRY and DELETE: byte-exact messages (unique 0,
/// error = the positive code), their refusals, and concurrent senders.</summary>
public class NotificationTests
{
    /// <summary>Runs a session over the 6.18 INIT (or <paramref name="init"/>) and calls
    /// <paramref name="send"/> once INIT is answered; returns what it returned and every write
    /// after the INIT reply.</summary>
    private static (T Result, Reply[] Written) WhileRunning<T>(Func<FuseSession, T> send, byte[]? init = null)
    {
        var device = new MemoryFuseDevice([init ?? Fixtures.KernelInit618]);
        var session = new FuseSession(device, new TestFileSystem(), new FuseSessionOptions { WorkerThreads = 1 }, new ListLogger());
        T result = default!;
        session.Initialized += _ => result = send(session);
        session.Run();
        Reply[] all = [.. device.Replies.Select(Reply.Parse)];
        Assert.That(all[0].Unique, Is.EqualTo(2UL), "the INIT reply comes first");
        return (result, all[1..]);
    }

    [Test]
    public void InvalInodeBytes()
    {
        var (rc, w) = WhileRunning(s => s.NotifyInvalInode(0x0102030405060708, -1, 0));
        Assert.That(rc, Is.EqualTo(Errno.None));
        Reply n = w.Single();
        Assert.Multiple(() =>
        {
            Assert.That(n.Len, Is.EqualTo(16 + 24), "out.len");
            Assert.That(n.Error, Is.EqualTo(2), "out.error: FUSE_NOTIFY_INVAL_INODE");
            Assert.That(n.Unique, Is.Zero, "out.unique: 0 marks a notification");
            Assert.That(n.U64(0), Is.EqualTo(0x0102030405060708UL), "ino");
            Assert.That((long)n.U64(8), Is.EqualTo(-1L), "off: attributes only");
            Assert.That((long)n.U64(16), Is.Zero, "len");
        });
    }

    [Test]
    public void InvalEntryBytes()
    {
        var (rc, w) = WhileRunning(s => (s.NotifyInvalEntry(1, "hello"u8), s.NotifyInvalEntry(7, "x"u8, expireOnly: true)));
        Assert.That(rc, Is.EqualTo((Errno.None, Errno.None)));
        Assert.That(w, Has.Length.EqualTo(2));
        Reply a = w[0];
        Assert.Multiple(() =>
        {
            Assert.That(a.Len, Is.EqualTo(16 + 16 + 6), "out.len: header + struct + \"hello\\0\"");
            Assert.That(a.Error, Is.EqualTo(3), "FUSE_NOTIFY_INVAL_ENTRY");
            Assert.That(a.Unique, Is.Zero);
            Assert.That(a.U64(0), Is.EqualTo(1UL), "parent");
            Assert.That(a.U32(8), Is.EqualTo(5), "namelen without NUL");
            Assert.That(a.U32(12), Is.Zero, "flags");
            Assert.That(a.Payload[16..], Is.EqualTo("hello\0"u8.ToArray()), "name + NUL");
            Assert.That(w[1].U32(12), Is.EqualTo(1), "FUSE_EXPIRE_ONLY");
            Assert.That(w[1].Payload[16..], Is.EqualTo("x\0"u8.ToArray()));
        });
    }

    [Test]
    public void DeleteBytes()
    {
        var (rc, w) = WhileRunning(s => s.NotifyDelete(1, 1005, "gone"u8));
        Assert.That(rc, Is.EqualTo(Errno.None));
        Reply n = w.Single();
        Assert.Multiple(() =>
        {
            Assert.That(n.Len, Is.EqualTo(16 + 24 + 5));
            Assert.That(n.Error, Is.EqualTo(6), "FUSE_NOTIFY_DELETE");
            Assert.That(n.Unique, Is.Zero);
            Assert.That(n.U64(0), Is.EqualTo(1UL), "parent");
            Assert.That(n.U64(8), Is.EqualTo(1005UL), "child");
            Assert.That(n.U32(16), Is.EqualTo(4), "namelen");
            Assert.That(n.U32(20), Is.Zero, "padding");
            Assert.That(n.Payload[24..], Is.EqualTo("gone\0"u8.ToArray()));
        });
    }

    [Test]
    public void BadNamesAndMissingCapabilitiesAreRefusedWithoutWriting()
    {
        var (rc, w) = WhileRunning(s => new[]
        {
            s.NotifyInvalEntry(1, ""u8),
            s.NotifyInvalEntry(1, "a\0b"u8),
            s.NotifyDelete(1, 2, Encoding.ASCII.GetBytes(new string('n', 4096))),
        });
        Assert.That(rc, Is.All.EqualTo(Errno.EINVAL));
        Assert.That(w, Is.Empty);

        // A kernel that did not offer FUSE_HAS_EXPIRE_ONLY (flags2 bit 35 - 32 = 3).
        var (expire, none) = WhileRunning(s => s.NotifyInvalEntry(1, "x"u8, expireOnly: true), WriteFixtures.InitWithout(0, 1U << 3));
        Assert.That(expire, Is.EqualTo(Errno.ENOSYS));
        Assert.That(none, Is.Empty);
    }

    [Test]
    public void BeforeInitAndAfterTheSessionEndedThereIsNoConnection()
    {
        var device = new MemoryFuseDevice([Fixtures.KernelInit618]);
        var session = new FuseSession(device, new TestFileSystem(), new FuseSessionOptions { WorkerThreads = 1 }, new ListLogger());
        Assert.That(session.NotifyInvalInode(1, 0, 0), Is.EqualTo(Errno.ENODEV));
        session.Run();
        Assert.That(session.NotifyDelete(1, 2, "x"u8), Is.EqualTo(Errno.ENODEV));
        Assert.That(device.Replies, Has.Length.EqualTo(1), "only the INIT reply");
    }

    [Test]
    public void TheDevicesErrorIsReturned()
    {
        var device = new RefusingDevice();
        var session = new FuseSession(device, new TestFileSystem(), new FuseSessionOptions { WorkerThreads = 1 }, new ListLogger());
        Errno rc = Errno.None;
        session.Initialized += _ => rc = session.NotifyInvalInode(42, 0, 0);
        session.Run();
        Assert.That(rc, Is.EqualTo(Errno.ENOENT), "the kernel's answer for an inode it does not have");
    }

    [Test]
    public void ConcurrentSendersEachWriteOneWholeMessage()
    {
        var (results, w) = WhileRunning(s =>
        {
            var rcs = new ConcurrentBag<Errno>();
            Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            {
                string name = $"n{i}";
                rcs.Add((i % 3) switch
                {
                    0 => s.NotifyInvalInode((ulong)i, i, 4096),
                    1 => s.NotifyInvalEntry((ulong)i, Encoding.ASCII.GetBytes(name)),
                    _ => s.NotifyDelete((ulong)i, (ulong)i + 1, Encoding.ASCII.GetBytes(name)),
                });
            });
            return rcs.ToArray();
        });
        Assert.That(results, Has.Length.EqualTo(400).And.All.EqualTo(Errno.None));
        Assert.That(w, Has.Length.EqualTo(400));
        foreach (Reply n in w)
        {
            ulong i = n.U64(0);
            Assert.That(n.Unique, Is.Zero);
            Assert.That(n.Error, Is.EqualTo((i % 3) switch { 0 => 2, 1 => 3, _ => 6 }));
            if (n.Error == 2)
            {
                Assert.That((n.U64(8), n.U64(16)), Is.EqualTo((i, 4096UL)));
                continue;
            }

            int nameAt = n.Error == 3 ? 16 : 24;
            Assert.That(Encoding.ASCII.GetString(n.Payload, nameAt, n.Payload.Length - nameAt), Is.EqualTo($"n{i}\0"));
        }

        Assert.That(w.Select(n => n.U64(0)).Order(), Is.EqualTo(Enumerable.Range(0, 400).Select(i => (ulong)i)));
    }

    /// <summary>Serves INIT, then answers every notification write with -ENOENT.</summary>
    private sealed class RefusingDevice : IFuseDevice
    {
        private int reads;

        public int Read(Span<byte> buffer)
        {
            if (Interlocked.Increment(ref this.reads) != 1)
            {
                return -(int)Errno.ENODEV;
            }

            Fixtures.KernelInit618.CopyTo(buffer);
            return Fixtures.KernelInit618.Length;
        }

        public int Write(ReadOnlySpan<byte> reply) => BitConverter.ToUInt64(reply[8..]) == 0 ? -(int)Errno.ENOENT : 0;
    }
}
