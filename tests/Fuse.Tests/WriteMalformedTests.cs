using Safemount.Shared.Interop;
using W = Safemount.Fuse.Tests.WriteFixtures;

namespace Safemount.Fuse.Tests;

/// <summary>Malformed write-side requests on a writable file system: each is answered EINVAL
/// through the session's malformed-request path (event 1111), without calling the file system.</summary>
public class WriteMalformedTests
{
    private const int MalformedEvent = 1111;

    /// <summary>A well-formed request with its body cut to <paramref name="keep"/> bytes (len fixed up).</summary>
    private static byte[] Cut(byte[] request, int keep)
    {
        byte[] r = request[..(40 + keep)];
        BitConverter.TryWriteBytes(r.AsSpan(0), (uint)r.Length);
        return r;
    }

    /// <summary>The request with its last byte (a name's NUL) dropped.</summary>
    private static byte[] DropLastNul(byte[] request)
    {
        Assert.That(request[^1], Is.Zero, "the fixture ends in a NUL");
        return Cut(request, request.Length - 41);
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        // Op struct shorter than its fixed size.
        foreach (var (name, opcode, request) in W.OneOfEach())
        {
            int structSize = opcode switch
            {
                W.FUSE_SETATTR => 88, W.FUSE_MKNOD => 16, W.FUSE_MKDIR => 8, W.FUSE_RENAME => 8, W.FUSE_LINK => 8,
                W.FUSE_WRITE => 40, W.FUSE_SETXATTR => 16, W.FUSE_CREATE or W.FUSE_TMPFILE => 16, W.FUSE_FALLOCATE => 32,
                W.FUSE_RENAME2 => 16, W.FUSE_COPY_FILE_RANGE or W.FUSE_COPY_FILE_RANGE_64 => 56,
                _ => 0,
            };
            if (structSize > 0)
            {
                yield return new TestCaseData(Cut(request, structSize - 1)).SetName($"{name} with {structSize - 1} of {structSize} struct bytes");
                yield return new TestCaseData(Cut(request, 0)).SetName($"{name} with no body");
            }
        }

        // Names not NUL-terminated within the body, missing or empty.
        yield return new TestCaseData(DropLastNul(W.Create(4, 1, "c", 0, 0x81A4, 0))).SetName("CREATE name without NUL");
        yield return new TestCaseData(DropLastNul(W.Create(4, 1, "/", 0, 0x8180, 0, opcode: W.FUSE_TMPFILE))).SetName("TMPFILE name without NUL");
        yield return new TestCaseData(DropLastNul(W.MkNod(4, 1, "p", 0x11A4, 0, 0))).SetName("MKNOD name without NUL");
        yield return new TestCaseData(DropLastNul(W.MkDir(4, 1, "d", 0x1ED, 0))).SetName("MKDIR name without NUL");
        yield return new TestCaseData(DropLastNul(W.Symlink(4, 1, "s", "target"))).SetName("SYMLINK target without NUL");
        yield return new TestCaseData(Le.Request(W.FUSE_SYMLINK, 4, 1, Le.Name("s"))).SetName("SYMLINK without target");
        yield return new TestCaseData(Le.Request(W.FUSE_SYMLINK, 4, 1, Le.Name("s"), Le.U32(0))).SetName("SYMLINK empty target");
        yield return new TestCaseData(DropLastNul(W.Link(4, 1, 2, "h"))).SetName("LINK name without NUL");
        yield return new TestCaseData(DropLastNul(W.Unlink(4, 1, "hello"))).SetName("UNLINK name without NUL");
        yield return new TestCaseData(Le.Request(W.FUSE_UNLINK, 4, 1, Le.U32(0))).SetName("UNLINK empty name");
        yield return new TestCaseData(DropLastNul(W.Unlink(4, 1, "d", W.FUSE_RMDIR))).SetName("RMDIR name without NUL");
        yield return new TestCaseData(Le.Request(W.FUSE_RMDIR, 4, 1, Le.Name(new string('x', 4096)))).SetName("RMDIR name past 4095 bytes");
        yield return new TestCaseData(DropLastNul(W.Rename(4, 1, "hello", 1, "x"))).SetName("RENAME new name without NUL");
        yield return new TestCaseData(Le.Request(W.FUSE_RENAME, 4, 1, Le.U64(1), Le.Name("hello"))).SetName("RENAME without new name");
        yield return new TestCaseData(DropLastNul(W.Rename2(4, 1, "hello", 1, "x", 0))).SetName("RENAME2 new name without NUL");
        yield return new TestCaseData(DropLastNul(W.SetXattr(4, 2, "user.a", [], 0))).SetName("SETXATTR name without NUL");
        yield return new TestCaseData(DropLastNul(W.RemoveXattr(4, 2, "user.a"))).SetName("REMOVEXATTR name without NUL");

        // Size fields larger than the payload, ranges past loff_t, impossible flags.
        yield return new TestCaseData(W.Write(4, 2, 1, 0, [1, 2, 3], sizeField: 4)).SetName("WRITE size 4 with 3 data bytes");
        yield return new TestCaseData(W.Write(4, 2, 1, 0, [], sizeField: uint.MaxValue)).SetName("WRITE size 4 GiB with no data");
        yield return new TestCaseData(W.Write(4, 2, 1, (ulong)long.MaxValue, [1])).SetName("WRITE ending past loff_t");
        yield return new TestCaseData(W.Write(4, 2, 1, ulong.MaxValue, [1])).SetName("WRITE offset past loff_t");
        yield return new TestCaseData(W.SetXattr(4, 2, "user.a", [1, 2], 0, sizeField: 3)).SetName("SETXATTR size 3 with 2 value bytes");
        yield return new TestCaseData(W.SetXattr(4, 2, "user.a", new byte[65537], 0)).SetName("SETXATTR value past XATTR_SIZE_MAX");
        yield return new TestCaseData(W.SetAttr(4, 2, 1U << 3, size: 1UL << 63)).SetName("SETATTR size past loff_t");
        yield return new TestCaseData(Patch(W.SetAttr(4, 2, 1U << 4), 40 + 56, 1_000_000_000)).SetName("SETATTR atimensec 1e9");
        yield return new TestCaseData(W.Fallocate(4, 2, 1, (ulong)long.MaxValue, 2, 0)).SetName("FALLOCATE range past loff_t");
        yield return new TestCaseData(W.Lseek(4, 2, 1, ulong.MaxValue, 3)).SetName("LSEEK offset past loff_t");
        yield return new TestCaseData(W.CopyFileRange(4, 2, 1, 0, 2, 1, ulong.MaxValue - 1, 1)).SetName("COPY_FILE_RANGE destination past loff_t");
        yield return new TestCaseData(W.CopyFileRange(4, 2, 1, 1, 2, 1, 0, ulong.MaxValue, W.FUSE_COPY_FILE_RANGE)).SetName("COPY_FILE_RANGE length past loff_t");
        yield return new TestCaseData(W.Rename2(4, 1, "hello", 1, "x", 8)).SetName("RENAME2 unknown flag");
        yield return new TestCaseData(W.Rename2(4, 1, "hello", 1, "x", 3)).SetName("RENAME2 NOREPLACE|EXCHANGE");
        yield return new TestCaseData(W.Rename2(4, 1, "hello", 1, "x", 6)).SetName("RENAME2 EXCHANGE|WHITEOUT");
        yield return new TestCaseData(Cut(W.Lseek(4, 2, 1, 0, 3), 23)).SetName("LSEEK with 23 of 24 struct bytes");
        yield return new TestCaseData(Cut(W.FsyncDir(4, 1, 1, 0), 8)).SetName("FSYNCDIR with 8 of 16 struct bytes");
    }

    private static byte[] Patch(byte[] request, int offset, uint value)
    {
        BitConverter.TryWriteBytes(request.AsSpan(offset), value);
        return request;
    }

    [TestCaseSource(nameof(Cases))]
    public void IsEinvalAndNeverReachesTheFileSystem(byte[] request)
    {
        var fs = new TestFileSystem { IsReadOnly = false };
        var (replies, log, _) = SessionHarness.Run(fs, [request]);
        Assert.That(replies, Has.Length.EqualTo(2), "exactly one reply");
        Assert.That((replies[1].Unique, replies[1].Error, replies[1].Payload.Length), Is.EqualTo((4UL, -(int)Errno.EINVAL, 0)));
        Assert.That(fs.Calls, Is.Empty, "the file system was not called");
        Assert.That(log.Has(MalformedEvent), Is.True);
    }

    [Test]
    public void RandomBodiesOfWriteOpcodesNeverEscapeAndAreAnsweredOnce()
    {
        // Random bodies after a valid header, for the write opcodes only, on a writable tree
        // with several workers: whatever the decoding makes of them, one reply each.
        uint[] opcodes = [.. W.OneOfEach().Select(x => x.Opcode), W.FUSE_LSEEK, W.FUSE_FSYNCDIR];
        var rng = new Random(4242);
        var requests = new List<byte[]>();
        for (int i = 0; i < 3000; i++)
        {
            byte[] body = new byte[rng.Next(0, 200)];
            rng.NextBytes(body);
            if (rng.Next(2) == 0 && body.Length > 20)
            {
                body[rng.Next(8, body.Length)] = 0; // a NUL somewhere makes names decodable
                body[^1] = 0;
            }

            ulong node = (ulong)rng.Next(1, 4);
            requests.Add(Le.Request(opcodes[rng.Next(opcodes.Length)], (ulong)(1000 + i), node, body));
        }

        var fs = new TestFileSystem { IsReadOnly = false, ExtraFiles = 3 };
        var (replies, log, _) = SessionHarness.Run(fs, requests, new FuseSessionOptions { WorkerThreads = 4 });
        // The INIT reply (unique 2) may land after the first replies of the other workers.
        Assert.That(replies.Select(r => r.Unique).Order(), Is.EqualTo(Enumerable.Range(1000, 3000).Select(i => (ulong)i).Prepend(2UL)), "every request answered exactly once");
        Assert.That(log.Has(1112) || log.Has(1120), Is.False, "no unanswered request, no worker crash");
        Assert.That(log.Entries.Where(e => e.Id.Id == 1115).Select(e => e.Text), Is.Empty, "nothing threw: bad input is malformed or an errno");
        Assert.That(fs.Calls, Is.Not.Empty, "some random bodies decode and reach the file system");
        Assert.That(log.Has(MalformedEvent), Is.True);
    }
}
