using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.Protocol;

/// <summary>
/// Issue 6, sandbox step 7: once FUSE_FD_ACCEPTED is sent the service's socket refuses fd
/// passing altogether. Even on FUSE_FD, the one message type that carries an fd at that
/// stage of setup, an fd that arrives afterwards is a protocol error (UnexpectedFds) and the
/// kernel never installs it in the service (recvmsg without a control buffer: MSG_CTRUNC).
/// </summary>
[TestFixture]
public sealed class FdPassingAfterSetupTests
{
    [Test]
    public void FuseFdAfterSetupIsRefusedAndNeverInstalled()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service);
        ep.SendFuseFdAccepted();

        using SafeFd smuggled = TestFds.TempFile(4096, out string path);
        try
        {
            ReadOnlySpan<byte> bytes = new MessageWriter(MessageType.FuseFd).Message;
            Assert.That(SocketInterop.SendMessage(h, bytes, [smuggled]), Is.EqualTo(bytes.Length));
            ProtocolException e = Assert.Throws<ProtocolException>(() => ep.WaitForHelperEnd(TimeSpan.FromSeconds(5)))!;
            Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.UnexpectedFds));
            Assert.That(TestFds.FdsReferring(path), Is.EqualTo(1), "only the sender's own fd refers to the file");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void BeforeSetupTheSameMessageIsAccepted()
    {
        (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd h = helper;
        using ServiceEndpoint ep = new(service);
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        ReadOnlySpan<byte> bytes = new MessageWriter(MessageType.FuseFd).Message;
        Assert.That(SocketInterop.SendMessage(h, bytes, [fuse]), Is.EqualTo(bytes.Length));
        using SafeFd received = ep.ReceiveFuseFd();
        Assert.That(FileInterop.FStat(received).IsCharDevice, Is.True);
    }
}
