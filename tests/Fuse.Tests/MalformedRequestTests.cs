using Safemount.Shared.Interop;

namespace Safemount.Fuse.Tests;

/// <summary>Bad input from /dev/fuse: answered EINVAL (or dropped when it cannot or must not be
/// answered) and logged; never an exception out of the session, never a second reply.</summary>
public class MalformedRequestTests
{
    private const int MalformedEvent = 1111;

    [TestCase(1)]
    [TestCase(16)]
    [TestCase(39)]
    public void ShorterThanInHeaderIsDropped(int length)
    {
        byte[] shortRead = Fixtures.LookupHello(4)[..length];
        var (replies, log, _) = SessionHarness.Run(new TestFileSystem(), [shortRead, Fixtures.LookupHello(5)]);
        Assert.That(replies.Select(r => r.Unique), Is.EqualTo(new[] { 2UL, 5UL }), "dropped, and the session goes on");
        Assert.That(log.Has(1110), Is.True);
    }

    [Test]
    public void LenNotMatchingTheReadSizeGetsEinval()
    {
        byte[] longer = [.. Fixtures.LookupHello(4), 0, 0, 0, 0, 0, 0, 0, 0]; // 8 bytes beyond len
        byte[] lying = Fixtures.LookupHello(5);
        lying[0] = 200; // len 200, read() gave 46
        var (replies, log, _) = SessionHarness.Run(new TestFileSystem(), [longer, lying]);
        Assert.That(replies[1..].Select(r => (r.Unique, r.Error)), Is.EqualTo(new[] { (4UL, -(int)Errno.EINVAL), (5UL, -(int)Errno.EINVAL) }));
        Assert.That(log.Entries.Count(e => e.Id.Id == MalformedEvent), Is.EqualTo(2));
    }

    [Test]
    public void ExtensionLengthBeyondTheBodyGetsEinval()
    {
        byte[] req = Fixtures.LookupHello(4);
        req[36] = 3; // total_extlen 3 * 8 = 24 bytes > 6-byte body
        Reply r = SessionHarness.RunAfterInit(new TestFileSystem(), req).Single();
        Assert.That(r.Error, Is.EqualTo(-(int)Errno.EINVAL));
    }

    [Test]
    public void ExtensionsAreStrippedFromTheBody()
    {
        // LOOKUP "hello" followed by one 8-byte extension (total_extlen 1).
        byte[] body = Le.Cat(Le.Name("hello"), Le.Zeros(2), Le.U32(8), Le.U32(32));
        byte[] req = Le.Cat(Le.InHeader(1, 4, 1, body.Length), body);
        req[36] = 1;
        Reply r = SessionHarness.RunAfterInit(new TestFileSystem(), req).Single();
        Assert.That(r.Error, Is.Zero);
    }

    private static IEnumerable<TestCaseData> TruncatedCases()
    {
        yield return new TestCaseData(3u, 15).SetName("GETATTR with 15 of 16 bytes");
        yield return new TestCaseData(14u, 4).SetName("OPEN with 4 of 8 bytes");
        yield return new TestCaseData(15u, 39).SetName("READ with 39 of 40 bytes");
        yield return new TestCaseData(28u, 0).SetName("READDIR with no fuse_read_in");
        yield return new TestCaseData(44u, 20).SetName("READDIRPLUS with 20 of 40 bytes");
        yield return new TestCaseData(18u, 8).SetName("RELEASE with 8 of 24 bytes");
        yield return new TestCaseData(22u, 4).SetName("GETXATTR with 4 of 8 bytes");
        yield return new TestCaseData(52u, 16).SetName("STATX with 16 of 24 bytes");
        yield return new TestCaseData(34u, 0).SetName("ACCESS with no body");
        yield return new TestCaseData(26u, 12).SetName("second INIT, truncated");
    }

    [TestCaseSource(nameof(TruncatedCases))]
    public void TruncatedOpStructGetsEinval(uint opcode, int bodyLength)
    {
        var fs = new TestFileSystem();
        Reply r = SessionHarness.RunAfterInit(fs, Le.Request(opcode, 4, 2, Le.Zeros(bodyLength))).Single();
        Assert.That((r.Unique, r.Error, r.Payload.Length), Is.EqualTo((4UL, -(int)Errno.EINVAL, 0)));
        Assert.That(fs.Released, Is.Empty, "the file system was not called");
    }

    [Test]
    public void SecondInitGetsEinval()
    {
        Reply r = SessionHarness.RunAfterInit(new TestFileSystem(), Fixtures.KernelInit618).Single();
        Assert.That(r.Error, Is.EqualTo(-(int)Errno.EINVAL));
    }

    [Test]
    public void NamesWithoutNulEmptyOrTooLongGetEinval()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Le.Request(1, 4, 1, "hello"u8.ToArray()),                                       // no NUL
            Le.Request(1, 5, 1, Le.U32(0)),                                                // empty name
            Le.Request(1, 6, 1, Le.Name(new string('a', 4096))),                           // past PATH_MAX - 1
            Le.Request(22, 7, 2, Le.U32(64), Le.U32(0), "user.test"u8.ToArray()),           // GETXATTR name without NUL
            Le.Request(1, 8, 1, Le.Name(new string('a', 4095))));                          // longest legal name
        Assert.That(r.Select(x => (x.Unique, x.Error)), Is.EqualTo(new[]
        {
            (4UL, -(int)Errno.EINVAL), (5UL, -(int)Errno.EINVAL), (6UL, -(int)Errno.EINVAL), (7UL, -(int)Errno.EINVAL), (8UL, -(int)Errno.ENOENT),
        }));
        Assert.That(fs.LookupCounts, Is.Empty);
    }

    [Test]
    public void AbsurdSizesAreRefusedBeforeUse()
    {
        var fs = new TestFileSystem();
        Reply[] r = SessionHarness.RunAfterInit(
            fs,
            Le.Request(15, 4, 2, Fixtures.ReadIn(1, 0, uint.MaxValue)),        // READ of 4 GiB
            Le.Request(15, 5, 2, Fixtures.ReadIn(1, ulong.MaxValue, 10)),      // offset past loff_t
            Le.Request(28, 6, 1, Fixtures.ReadIn(1, 0, uint.MaxValue)));       // READDIR: clamped, not refused
        Assert.That(r[0].Error, Is.EqualTo(-(int)Errno.EINVAL));
        Assert.That(r[1].Error, Is.EqualTo(-(int)Errno.EINVAL));
        Assert.That((r[2].Error, r[2].Payload.Length), Is.EqualTo((0, 128)));
    }

    [Test]
    public void MalformedForgetsAreDroppedWithoutReply()
    {
        var fs = new TestFileSystem();
        var (replies, log, _) = SessionHarness.Run(fs, [
            Le.Request(2, 4, 2, Le.U32(1)),                                     // FORGET with 4 of 8 bytes
            Le.Request(42, 5, 0, Le.U32(1)),                                    // BATCH_FORGET header truncated
            Le.Request(42, 6, 0, Le.U32(2), Le.U32(0), Le.U64(2), Le.U64(1)),   // count 2, one item present
            Le.Request(36, 7, 0)]);                                             // INTERRUPT without body
        Assert.That(replies.Select(x => x.Unique), Is.EqualTo(new[] { 2UL }));
        Assert.That(fs.Forgets, Is.Empty, "nothing from a malformed batch is applied");
        Assert.That(log.Entries.Count(e => e.Id.Id == MalformedEvent), Is.EqualTo(4));
    }

    [Test]
    public void RandomGarbageNeverEscapesAndEveryAnsweredRequestGetsOneReply()
    {
        var rng = new Random(12345);
        var requests = new List<byte[]>();
        for (int i = 0; i < 3000; i++)
        {
            byte[] req = new byte[rng.Next(40, 400)];
            rng.NextBytes(req);
            uint opcode = (uint)rng.Next(1, 60);
            BitConverter.TryWriteBytes(req.AsSpan(4), opcode);
            BitConverter.TryWriteBytes(req.AsSpan(8), (ulong)(1000 + i));
            if (rng.Next(4) != 0)
            {
                BitConverter.TryWriteBytes(req.AsSpan(0), (uint)req.Length);
                req[36] = 0;
                req[37] = 0;
            }

            requests.Add(req);
        }

        var fs = new TestFileSystem { ExtraFiles = 5 };
        var (replies, _, _) = SessionHarness.Run(fs, requests, new FuseSessionOptions { WorkerThreads = 4 });

        // Opcodes 2 (FORGET), 36 (INTERRUPT) and 42 (BATCH_FORGET) are never answered; every
        // other request exactly once. A random DESTROY (38) stops the session early, so only
        // compare the answered set with what was read.
        var uniques = replies.Skip(1).Select(r => r.Unique).ToList();
        Assert.That(uniques, Is.Unique, "no request answered twice");
        var forbidden = requests.Where(q => BitConverter.ToUInt32(q, 4) is 2 or 36 or 42).Select(q => BitConverter.ToUInt64(q, 8)).ToHashSet();
        Assert.That(uniques.Where(forbidden.Contains), Is.Empty);
    }
}
