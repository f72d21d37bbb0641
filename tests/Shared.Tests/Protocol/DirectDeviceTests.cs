using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.Protocol;

/// <summary>
/// The direct-I/O device (docs/PROTOCOL.md "DIRECT_DEVICE"): the capability asked in HELLO and
/// agreed in an extended HELLO_REPLY, MOUNT_REQUEST flag bit 1, then DIRECT_DEVICE (type 10,
/// empty body, exactly one fd: the same device, O_RDWR|O_DIRECT). Byte-exact fixtures, a round
/// trip between the real endpoints, and a raw hostile helper for every way the fd or the order
/// can be wrong; each refusal is an ERROR with the named code and leaves no fd behind.
/// </summary>
[TestFixture]
public sealed class DirectDeviceTests
{
    private const int Size = 1 << 20;

    private static readonly ProtocolTimeouts Short = new()
    {
        Step = TimeSpan.FromSeconds(2),
        MountReply = TimeSpan.FromSeconds(2),
        Ready = TimeSpan.FromSeconds(2),
    };

    private static readonly byte[] HelloAskingDirect =
    [
        0x01, 0x00, 0x00, 0x00, // type = HELLO
        0x0C, 0x00, 0x00, 0x00, // body_length = 12
        0x01, 0x00, 0x00, 0x00, // min_version
        0x01, 0x00, 0x00, 0x00, // max_version
        0x02, 0x00, 0x00, 0x00, // flags = DIRECT_DEVICE
    ];

    private static readonly byte[] DirectDeviceMessage =
    [
        0x0A, 0x00, 0x00, 0x00, // type = DIRECT_DEVICE
        0x00, 0x00, 0x00, 0x00, // body_length = 0
    ];

    private string _image = string.Empty;
    private string _other = string.Empty;

    [SetUp]
    public void MakeFiles()
    {
        TestFds.TempFile(Size, out _image).Dispose();
        TestFds.TempFile(Size, out _other).Dispose();
    }

    [TearDown]
    public void RemoveFiles()
    {
        File.Delete(_image);
        File.Delete(_other);
    }

    [Test]
    public void DirectDeviceFixtureIsByteExact()
    {
        Assert.That(new MessageWriter(MessageType.DirectDevice).Message.ToArray(), Is.EqualTo(DirectDeviceMessage));
        Assert.That(MessageChannel.FdsCarried(MessageType.DirectDevice), Is.EqualTo(1));
        MessageWriter hello = new(MessageType.Hello);
        new HelloMessage(1, 1, (uint)HelloFlags.DirectDevice).Encode(hello);
        Assert.That(hello.Message.ToArray(), Is.EqualTo(HelloAskingDirect));
    }

    /// <summary>HELLO_REPLY byte by byte for each HELLO flags value: the flags word only when a capability was asked.</summary>
    [TestCase(0u, new byte[] { 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0 }, TestName = "no flags: {version}")]
    [TestCase(1u, new byte[] { 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0 }, TestName = "sloppy only: {version}")]
    [TestCase(2u, new byte[] { 2, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0 }, TestName = "direct asked: {version, DIRECT_DEVICE}")]
    [TestCase(0x80000003u, new byte[] { 2, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0 }, TestName = "direct with sloppy and an unknown bit: {version, DIRECT_DEVICE}")]
    public void ServiceRepliesWithFlagsOnlyToAHelperThatAsked(uint helloFlags, byte[] expected)
    {
        (SafeFd raw, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd r = raw;
        using ServiceEndpoint ep = new(service, Short);
        MessageWriter hello = new(MessageType.Hello);
        new HelloMessage(1, 1, helloFlags).Encode(hello);
        RawSend(raw, hello.Message);
        ep.Handshake();
        Assert.That(RawReceive(raw, out int fds), Is.EqualTo(expected));
        Assert.That(fds, Is.Zero);
        Assert.That(ep.AgreedCapabilities, Is.EqualTo((HelloFlags)helloFlags & HelloFlags.DirectDevice));
    }

    /// <summary>The helper's reading of HELLO_REPLY: plain or extended when it asked; never a capability it did not ask for.</summary>
    [TestCase(HelloFlags.DirectDevice, new byte[] { 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0 }, HelloFlags.None, TestName = "an old service: nothing agreed")]
    [TestCase(HelloFlags.DirectDevice, new byte[] { 2, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }, HelloFlags.None, TestName = "flags 0: nothing agreed")]
    [TestCase(HelloFlags.DirectDevice, new byte[] { 2, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0 }, HelloFlags.DirectDevice, TestName = "DIRECT_DEVICE agreed")]
    public void HelperReadsTheAgreedCapabilities(HelloFlags asked, byte[] reply, HelloFlags agreed)
    {
        (SafeFd helper, SafeFd raw) = TestFds.SeqPacketPair();
        using SafeFd r = raw;
        using HelperClient client = new(helper, Short);
        RawSend(raw, reply);
        Assert.That(client.Handshake(asked), Is.EqualTo(1u));
        Assert.That(client.AgreedCapabilities, Is.EqualTo(agreed));
        Assert.That(RawReceive(raw, out _), Is.EqualTo(HelloAskingDirect));
    }

    [TestCase(HelloFlags.DirectDevice, new byte[] { 2, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0 }, TestName = "a capability not asked for (bit 2)")]
    [TestCase(HelloFlags.DirectDevice, new byte[] { 2, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 }, TestName = "sloppy is no reply capability")]
    [TestCase(HelloFlags.None, new byte[] { 2, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0 }, TestName = "flags to a helper that asked nothing")]
    [TestCase(HelloFlags.DirectDevice, new byte[] { 2, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0 }, TestName = "flags cut to 2 bytes")]
    [TestCase(HelloFlags.DirectDevice, new byte[] { 2, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0 }, TestName = "trailing bytes")]
    public void HelperRefusesAMalformedExtendedReply(HelloFlags asked, byte[] reply)
    {
        (SafeFd helper, SafeFd raw) = TestFds.SeqPacketPair();
        using SafeFd r = raw;
        using HelperClient client = new(helper, Short);
        RawSend(raw, reply);
        ProtocolException e = Assert.Throws<ProtocolException>(() => client.Handshake(asked))!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.MalformedMessage), e.Message);
    }

    [Test]
    public void RoundTripCarriesTheDirectFdAfterTheRequest()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using HelperClient client = new(helper, Short);
        using ServiceEndpoint ep = new(service, Short);
        using SafeFd dev = FileInterop.Open(_image, FileInterop.O_RDWR);
        using SafeFd direct = FileInterop.Open(_image, FileInterop.O_RDWR | FileInterop.O_DIRECT);
        PeerThread peer = new(() => ep.Handshake());
        client.Handshake(HelloFlags.DirectDevice);
        Assert.That(peer.Join(), Is.Null);
        Assert.That(client.AgreedCapabilities, Is.EqualTo(HelloFlags.DirectDevice));

        using MountRequest sent = new(_image, "/mnt/x", "", false, Size, new SafeFd(dev.Fd, false), new SafeFd(direct.Fd, false));
        client.SendMount(sent);
        using MountRequest got = ep.ReceiveMountRequest();
        Assert.That(got.ReadOnly, Is.False);
        Assert.That(got.DirectDevice, Is.Not.Null);
        StatxResult st = FileInterop.FStat(got.DirectDevice!);
        Assert.That(st.Inode, Is.EqualTo(FileInterop.FStat(dev).Inode));
        Assert.That(FileInterop.GetStatusFlags(got.DirectDevice!) & FileInterop.O_DIRECT, Is.EqualTo(FileInterop.O_DIRECT));
        Assert.That(FileInterop.GetStatusFlags(got.Device) & FileInterop.O_DIRECT, Is.Zero);
    }

    [Test]
    public void HelperSendsRequestWithBit1ThenDirectDeviceByteExact()
    {
        (SafeFd helper, SafeFd raw) = TestFds.SeqPacketPair();
        using SafeFd r = raw;
        using HelperClient client = new(helper, Short);
        using SafeFd dev = FileInterop.Open(_image, FileInterop.O_RDWR);
        using SafeFd direct = FileInterop.Open(_image, FileInterop.O_RDWR | FileInterop.O_DIRECT);
        RawSend(raw, [2, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
        client.Handshake(HelloFlags.DirectDevice);
        RawReceive(raw, out _);
        using MountRequest sent = new("s", "m", "o", false, 0x0102030405060708, new SafeFd(dev.Fd, false), new SafeFd(direct.Fd, false));
        client.SendMount(sent);
        Assert.That(RawReceive(raw, out int requestFds), Is.EqualTo(new byte[]
        {
            0x03, 0x00, 0x00, 0x00, // type = MOUNT_REQUEST
            0x15, 0x00, 0x00, 0x00, // body_length = 21
            0x02, 0x00, 0x00, 0x00, // flags = DIRECT_DEVICE follows (read-write)
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // device_size
            0x01, 0x00, (byte)'s', // source
            0x01, 0x00, (byte)'m', // mountpoint
            0x01, 0x00, (byte)'o', // options
        }));
        Assert.That(RawReceive(raw, out int directFds), Is.EqualTo(DirectDeviceMessage));
        Assert.That((requestFds, directFds), Is.EqualTo((1, 1)));
    }

    [Test]
    public void HelperWillNotSendADirectFdTheServiceDidNotAgreeTo()
    {
        (SafeFd helper, SafeFd raw) = TestFds.SeqPacketPair();
        using SafeFd r = raw;
        using HelperClient client = new(helper, Short);
        using SafeFd dev = FileInterop.Open(_image, FileInterop.O_RDWR);
        RawSend(raw, [2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0]);
        client.Handshake(HelloFlags.DirectDevice);
        using MountRequest sent = new("s", "m", "o", false, Size, new SafeFd(dev.Fd, false), new SafeFd(dev.Fd, false));
        Assert.Throws<InvalidOperationException>(() => client.SendMount(sent));
        Assert.Throws<ArgumentException>(() => _ = new MountRequest("s", "m", "o", true, Size, new SafeFd(dev.Fd, false), new SafeFd(dev.Fd, false)));
    }

    /// <summary>What a hostile helper sends after HELLO (asking DIRECT_DEVICE unless the case says
    /// otherwise) and the MOUNT_REQUEST; every case must be refused with <c>code</c>.</summary>
    [TestCase("no-fd", ProtocolErrorCode.MissingFd, "DirectDevice message carried no file descriptor")]
    [TestCase("two-fds", ProtocolErrorCode.TooManyFds, "DirectDevice message carried more than 1 file descriptor")]
    [TestCase("other-file", ProtocolErrorCode.BadFdType, "not the device of the MOUNT_REQUEST")]
    [TestCase("socket", ProtocolErrorCode.BadFdType, "not the device of the MOUNT_REQUEST")]
    [TestCase("not-direct", ProtocolErrorCode.BadFdType, "not open O_RDWR|O_DIRECT")]
    [TestCase("read-only-direct", ProtocolErrorCode.BadFdType, "not open O_RDWR|O_DIRECT")]
    [TestCase("body", ProtocolErrorCode.MalformedMessage, "trailing bytes")]
    [TestCase("fuse-fd-instead", ProtocolErrorCode.UnexpectedMessage, "unexpected FuseFd message while waiting for DIRECT_DEVICE")]
    [TestCase("not-agreed", ProtocolErrorCode.MalformedMessage, "without the capability agreed in HELLO")]
    [TestCase("read-only-request", ProtocolErrorCode.MalformedMessage, "a read-only mount takes no direct-I/O device")]
    [TestCase("reserved-bit-2", ProtocolErrorCode.MalformedMessage, "reserved flags 0x6")]
    public void ServiceRefusesAHostileDirectDevice(string mode, ProtocolErrorCode code, string reason)
    {
        int before = TestFds.FdsReferring(_image) + TestFds.FdsReferring(_other);
        (SafeFd raw, SafeFd service) = TestFds.SeqPacketPair();
        using (SafeFd r = raw)
        using (ServiceEndpoint ep = new(service, Short))
        using (SafeFd dev = FileInterop.Open(_image, FileInterop.O_RDWR))
        {
            byte[] hello = (byte[])HelloAskingDirect.Clone();
            hello[16] = mode == "not-agreed" ? (byte)0 : (byte)2;
            RawSend(raw, hello);
            ep.Handshake();
            RawReceive(raw, out _);

            uint flags = mode switch
            {
                "read-only-request" => 3,
                "reserved-bit-2" => 6,
                _ => 2,
            };
            MessageWriter request = new(MessageType.MountRequest);
            request.WriteUInt32(flags);
            request.WriteUInt64(Size);
            request.WriteString(_image, ProtocolLimits.MaxPathBytes);
            request.WriteString("/mnt/hostile", ProtocolLimits.MaxPathBytes);
            request.WriteString(string.Empty, ProtocolLimits.MaxOptionsBytes);
            RawSend(raw, request.Message, dev);
            SendHostileFollowUp(raw, mode);

            ProtocolException e = Assert.Throws<ProtocolException>(() => ep.ReceiveMountRequest())!;
            Assert.That(e.Reason, Is.EqualTo(code), e.Message);
            Assert.That(e.Message, Does.Contain(reason));
            ErrorMessage error = ReadError(raw);
            Assert.That(error.Code, Is.EqualTo(code));
        }

        Assert.That(TestFds.FdsReferring(_image) + TestFds.FdsReferring(_other), Is.EqualTo(before), "an fd of the hostile messages was left open");
    }

    private void SendHostileFollowUp(SafeFd raw, string mode)
    {
        using SafeFd direct = FileInterop.Open(_image, FileInterop.O_RDWR | FileInterop.O_DIRECT);
        switch (mode)
        {
            case "no-fd":
                RawSend(raw, DirectDeviceMessage);
                break;
            case "two-fds":
                RawSend(raw, DirectDeviceMessage, direct, direct);
                break;
            case "other-file":
                using (SafeFd other = FileInterop.Open(_other, FileInterop.O_RDWR | FileInterop.O_DIRECT))
                {
                    RawSend(raw, DirectDeviceMessage, other);
                }

                break;
            case "socket":
                (SafeFd a, SafeFd b) = TestFds.SeqPacketPair();
                using (a)
                using (b)
                {
                    RawSend(raw, DirectDeviceMessage, a);
                }

                break;
            case "not-direct":
                using (SafeFd plain = FileInterop.Open(_image, FileInterop.O_RDWR))
                {
                    RawSend(raw, DirectDeviceMessage, plain);
                }

                break;
            case "read-only-direct":
                using (SafeFd ro = FileInterop.Open(_image, FileInterop.O_RDONLY | FileInterop.O_DIRECT))
                {
                    RawSend(raw, DirectDeviceMessage, ro);
                }

                break;
            case "body":
                RawSend(raw, [0x0A, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0], direct);
                break;
            case "fuse-fd-instead":
                using (SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR))
                {
                    RawSend(raw, [0x05, 0, 0, 0, 0, 0, 0, 0], fuse);
                }

                break;
            default:
                // not-agreed, read-only-request, reserved-bit-2: refused on the request itself; a
                // DIRECT_DEVICE sent anyway must not be taken.
                RawSend(raw, DirectDeviceMessage, direct);
                break;
        }
    }

    private static void RawSend(SafeFd sock, ReadOnlySpan<byte> bytes, params SafeFd[] fds)
    {
        long n = SocketInterop.SendMessage(sock, bytes, fds);
        Assert.That(n, Is.EqualTo(bytes.Length), $"sendmsg: {n}");
    }

    /// <summary>One datagram as bytes; <paramref name="fdCount"/> is how many fds came with it (closed at once).</summary>
    private static byte[] RawReceive(SafeFd sock, out int fdCount)
    {
        Assert.That(SocketInterop.Poll(sock, SocketInterop.POLLIN, 5000), Is.GreaterThan(0), "nothing to receive");
        byte[] buffer = new byte[ProtocolLimits.MaxMessageSize];
        List<SafeFd> fds = [];
        long n = SocketInterop.ReceiveMessage(sock, buffer, 4, fds, out _);
        Assert.That(n, Is.GreaterThan(0), $"recvmsg: {n}");
        fdCount = fds.Count;
        fds.ForEach(f => f.Dispose());
        return buffer.AsSpan(0, (int)n).ToArray();
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
}
