using System.Buffers.Binary;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.Protocol;

/// <summary>
/// A raw peer (sendmsg of hand-built datagrams) against a real endpoint over a socketpair;
/// each case must end in the named ProtocolErrorCode, with no fd left behind.
/// </summary>
[TestFixture]
public sealed class ProtocolFailureTests
{
    private static readonly ProtocolTimeouts Short = new()
    {
        Step = TimeSpan.FromMilliseconds(300),
        MountReply = TimeSpan.FromMilliseconds(300),
        Ready = TimeSpan.FromMilliseconds(300),
    };

    private static byte[] Hello(uint min, uint max)
    {
        MessageWriter w = new(MessageType.Hello);
        new HelloMessage(min, max, 0).Encode(w);
        return w.Message.ToArray();
    }

    private static void RawSend(SafeFd sock, ReadOnlySpan<byte> bytes, params SafeFd[] fds)
    {
        long n = SocketInterop.SendMessage(sock, bytes, fds);
        Assert.That(n, Is.EqualTo(bytes.Length), $"sendmsg: {n}");
    }

    /// <summary>Reads the ERROR the endpoint sent back before throwing.</summary>
    private static ErrorMessage ReadError(SafeFd sock)
    {
        using MessageChannel ch = new(new SafeFd(sock.Fd, ownsHandle: false));
        using ReceivedMessage m = ch.Receive(Deadline.After(TimeSpan.FromSeconds(5)), "reading ERROR");
        Assert.That(m.Type, Is.EqualTo(MessageType.Error));
        MessageReader r = m.Reader();
        return ErrorMessage.Decode(ref r);
    }

    [Test]
    public void HelloFixtureIsByteExact()
    {
        Assert.That(Hello(1, 1), Is.EqualTo(new byte[]
        {
            0x01, 0x00, 0x00, 0x00, // type = HELLO
            0x0C, 0x00, 0x00, 0x00, // body_length = 12
            0x01, 0x00, 0x00, 0x00, // min_version
            0x01, 0x00, 0x00, 0x00, // max_version
            0x00, 0x00, 0x00, 0x00, // flags
        }));
    }

    [Test]
    public void VersionMismatchIsRefusedWithAnError()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        RawSend(h, Hello(5, 9));
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.VersionMismatch));
        Assert.That(ReadError(h).Code, Is.EqualTo(ProtocolErrorCode.VersionMismatch));
    }

    [Test]
    public void HelperRefusesAReplyVersionOutsideItsRange()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd s = service;
        using HelperClient client = new(helper, Short);
        MessageWriter w = new(MessageType.HelloReply);
        w.WriteUInt32(7);
        RawSend(s, w.Message);
        ProtocolException e = Assert.Throws<ProtocolException>(() => client.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.VersionMismatch));
    }

    [Test]
    public void OversizedMessageIsRejected()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        byte[] big = new byte[ProtocolLimits.MaxMessageSize + 1];
        BinaryPrimitives.WriteUInt32LittleEndian(big, (uint)MessageType.Hello);
        BinaryPrimitives.WriteUInt32LittleEndian(big.AsSpan(4), (uint)(big.Length - 8));
        RawSend(h, big);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.MessageTooLarge));
    }

    [TestCase(new byte[] { 1, 0, 0 }, TestName = "shorter than the header")]
    [TestCase(new byte[] { 1, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0 }, TestName = "body shorter than body_length")]
    [TestCase(new byte[] { 1, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 }, TestName = "body longer than body_length")]
    [TestCase(new byte[] { 1, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 }, TestName = "HELLO missing its flags field")]
    [TestCase(new byte[] { 1, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, TestName = "HELLO with trailing bytes")]
    [TestCase(new byte[] { 0x99, 0, 0, 0, 0, 0, 0, 0 }, TestName = "unknown type tag")]
    [TestCase(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, TestName = "type tag zero")]
    public void MalformedHelloIsRejected(byte[] datagram)
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        RawSend(h, datagram);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.MalformedMessage), e.Message);
        Assert.That(ReadError(h).Code, Is.EqualTo(ProtocolErrorCode.MalformedMessage));
    }

    [Test]
    public void KnownButWrongTypeIsUnexpected()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        RawSend(h, new MessageWriter(MessageType.Ready).Message);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.UnexpectedMessage));
    }

    [Test]
    public void OverlongStringIsRejectedBeforeAllocation()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd s = service;
        using HelperClient client = new(helper, Short);
        MessageWriter w = new(MessageType.Error);
        w.WriteUInt32((uint)ProtocolErrorCode.IoError);
        w.WriteBytes(new byte[] { 0xFF, 0xFF }); // alleged length 65535 > MaxReasonBytes
        RawSend(s, w.Message);
        ProtocolException e = Assert.Throws<ProtocolException>(() => client.ReceiveMountReply())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.MalformedMessage));
        Assert.That(e.FromPeer, Is.False);
    }

    [Test]
    public void InvalidUtf8IsRejected()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd s = service;
        using HelperClient client = new(helper, Short);
        MessageWriter w = new(MessageType.Error);
        w.WriteUInt32((uint)ProtocolErrorCode.IoError);
        w.WriteBytes(new byte[] { 2, 0, 0xC3, 0x28 });
        RawSend(s, w.Message);
        ProtocolException e = Assert.Throws<ProtocolException>(() => client.ReceiveMountReply())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.MalformedMessage));
    }

    [Test]
    public void UnexpectedFdIsClosedNotLeaked()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        using SafeFd extra = TestFds.TempFile(4096, out string path);
        Assert.That(TestFds.FdsReferring(path), Is.EqualTo(1));
        RawSend(h, Hello(1, 1), extra);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.UnexpectedFds));
        Assert.That(TestFds.FdsReferring(path), Is.EqualTo(1), "the received duplicate was closed");
        File.Delete(path);
    }

    [TestCase(2, TestName = "two fds (counted)")]
    [TestCase(3, TestName = "three fds (MSG_CTRUNC)")]
    [TestCase(8, TestName = "eight fds (MSG_CTRUNC)")]
    public void TooManyFdsAreClosedNotLeaked(int count)
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        Assert.That(ProtocolTestSteps.Handshake(h, ep), Is.EqualTo(1u));
        using SafeFd file = TestFds.TempFile(4096, out string path);
        SafeFd[] fds = Enumerable.Repeat(file, count).ToArray();
        using MountRequest req = new(path, "/mnt", "", false, 4096, file);
        MessageWriter w = new(MessageType.MountRequest);
        w.WriteUInt32(0);
        w.WriteUInt64(4096);
        w.WriteString(path, ProtocolLimits.MaxPathBytes);
        w.WriteString("/mnt", ProtocolLimits.MaxPathBytes);
        w.WriteString("", ProtocolLimits.MaxOptionsBytes);
        Assert.That(TestFds.FdsReferring(path), Is.EqualTo(1));
        RawSend(h, w.Message, fds);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.ReceiveMountRequest())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.TooManyFds));
        Assert.That(TestFds.FdsReferring(path), Is.EqualTo(1), "every received duplicate was closed");
        Assert.That(ReadError(h).Code, Is.EqualTo(ProtocolErrorCode.TooManyFds));
        File.Delete(path);
    }

    [Test]
    public void MountRequestWithoutFdIsRejected()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        ProtocolTestSteps.Handshake(h, ep);
        MessageWriter w = new(MessageType.MountRequest);
        w.WriteUInt32(0);
        w.WriteUInt64(0);
        w.WriteString("a", 10);
        w.WriteString("b", 10);
        w.WriteString("", 10);
        RawSend(h, w.Message);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.ReceiveMountRequest())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.MissingFd));
    }

    [Test]
    public void DeviceThatIsNotABlockDeviceOrFileIsRejected()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using HelperClient client = new(helper, Short);
        using ServiceEndpoint ep = new(service, Short);
        PeerThread t = new(() => ep.Handshake());
        client.Handshake();
        Assert.That(t.Join(), Is.Null);
        string dirPath = Directory.CreateTempSubdirectory("safemount-test-").FullName.TrimEnd('/');
        using SafeFd dir = FileInterop.Open(dirPath, FileInterop.O_RDONLY | FileInterop.O_DIRECTORY);
        using MountRequest req = new(dirPath, "/mnt", "", true, 0, new SafeFd(dir.Fd, ownsHandle: false));
        client.SendMount(req);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.ReceiveMountRequest())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.BadFdType));
        Assert.That(TestFds.FdsReferring(dirPath), Is.EqualTo(1), "the rejected fd was closed");
        Directory.Delete(dirPath);
        ProtocolException h = Assert.Throws<ProtocolException>(() => client.ReceiveMountReply())!;
        Assert.That(h.FromPeer && h.Reason == ProtocolErrorCode.BadFdType, Is.True);
    }

    [Test]
    public void FuseFdThatIsNotDevFuseIsRejected()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using HelperClient client = new(helper, Short);
        using ServiceEndpoint ep = new(service, Short);
        using SafeFd notFuse = FileInterop.Open("/dev/null", FileInterop.O_RDWR);
        client.SendFuseFd(notFuse);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.ReceiveFuseFd())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.BadFdType));
        ProtocolException h = Assert.Throws<ProtocolException>(() => client.WaitFuseFdAccepted())!;
        Assert.That(h.FromPeer && h.Reason == ProtocolErrorCode.BadFdType, Is.True);
    }

    [Test]
    public void AfterSetupNoFdIsEvenInstalled()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        ep.SendFuseFdAccepted();
        using SafeFd extra = TestFds.TempFile(4096, out string path);
        MessageWriter w = new(MessageType.Abort);
        w.WriteString("x", 10);
        RawSend(h, w.Message, extra);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.WaitForHelperEnd(TimeSpan.FromSeconds(5)))!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.UnexpectedFds));
        Assert.That(TestFds.FdsReferring(path), Is.EqualTo(1));
        File.Delete(path);
    }

    [Test]
    public void PeerHangUpIsReported()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using ServiceEndpoint ep = new(service, Short);
        helper.Dispose();
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.PeerClosed));
    }

    [Test]
    public void HelperSeesServiceHangUp()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using HelperClient client = new(helper, Short);
        service.Dispose();
        ProtocolException e = Assert.Throws<ProtocolException>(() => client.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.PeerClosed));
    }

    [Test]
    public void SilentPeerHitsTheDeadline()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd s = service;
        using HelperClient client = new(helper, Short);
        client.SendFuseFd(FileInterop.Open("/dev/fuse", FileInterop.O_RDWR));
        ProtocolException e = Assert.Throws<ProtocolException>(() => client.WaitFuseFdAccepted())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.Timeout));
    }

    [Test]
    public void ServiceDeadlineOnSilentHelper()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service, Short);
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.Handshake())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.Timeout));
    }

    [Test]
    public void AbortWhileServiceWaitsIsReported()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using HelperClient client = new(helper, Short);
        using ServiceEndpoint ep = new(service, Short);
        client.Abort("mount failed");
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.ReceiveFuseFd())!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.Aborted));
        Assert.That(e.FromPeer, Is.True);
        Assert.That(e.Message, Is.EqualTo("mount failed"));
    }
}
