using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.Protocol;

[TestFixture]
public sealed class ProtocolHappyPathTests
{
    [Test]
    public void FullExchangeCarriesRealFdsAndValues()
    {
        (SafeFd helperSock, SafeFd serviceSock) = TestFds.SeqPacketPair();
        using SafeFd device = TestFds.TempFile(1 << 20, out string imagePath);
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        StatxResult deviceStat = FileInterop.FStat(device);
        byte[] uuid = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();

        MountRequest? received = null;
        StatxResult fuseStat = default;
        HelperEnd end = default;
        PeerThread service = new(() =>
        {
            using ServiceEndpoint ep = new(serviceSock);
            Assert.That(ep.Handshake(), Is.EqualTo(1u));
            received = ep.ReceiveMountRequest();
            ep.SendMountAccepted(new MountAccepted
            {
                RootMode = 0x41ED,
                BlockSize = 1024,
                Label = "vol\u00e9",
                Uuid = uuid,
                ReadOnly = true,
                Warnings = new[] { "journal replayed", "forced ro" },
            });
            using SafeFd gotFuse = ep.ReceiveFuseFd();
            fuseStat = FileInterop.FStat(gotFuse);
            ep.SendFuseFdAccepted();
            ep.SendReady();
            end = ep.WaitForHelperEnd(TimeSpan.FromSeconds(10));
        });

        using (HelperClient client = new(helperSock))
        {
            Assert.That(client.Handshake(), Is.EqualTo(1u));
            using MountRequest request = new(imagePath, "/mnt/x", "errors=remount-ro,journal_checksum", false, 1 << 20, new SafeFd(device.Fd, ownsHandle: false));
            client.SendMount(request);
            MountAccepted reply = client.ReceiveMountReply();
            Assert.That(reply.FsType, Is.EqualTo("fuseblk"));
            Assert.That(reply.Subtype, Is.EqualTo("safe.ext4"));
            Assert.That(reply.RootMode, Is.EqualTo(0x41EDu));
            Assert.That(reply.BlockSize, Is.EqualTo(1024u));
            Assert.That(reply.Label, Is.EqualTo("vol\u00e9"));
            Assert.That(reply.Uuid, Is.EqualTo(uuid));
            Assert.That(reply.ReadOnly, Is.True);
            Assert.That(reply.Warnings, Is.EqualTo(new[] { "journal replayed", "forced ro" }));
            client.SendFuseFd(fuse);
            client.WaitFuseFdAccepted();
            client.WaitReady();
        }

        Exception? serviceError = service.Join();
        Assert.That(serviceError, Is.Null, serviceError?.ToString());
        Assert.That(received, Is.Not.Null);
        using (received)
        {
            Assert.That(received!.SourcePath, Is.EqualTo(imagePath));
            Assert.That(received.Mountpoint, Is.EqualTo("/mnt/x"));
            Assert.That(received.Options, Is.EqualTo("errors=remount-ro,journal_checksum"));
            Assert.That(received.ReadOnly, Is.False);
            Assert.That(received.DeviceSize, Is.EqualTo(1UL << 20));
            StatxResult got = FileInterop.FStat(received.Device);
            Assert.That(got.Inode, Is.EqualTo(deviceStat.Inode), "the service got the same file, not a copy");
            Assert.That(received.Device.Fd, Is.Not.EqualTo(device.Fd));
        }

        Assert.That(fuseStat.IsCharDevice && fuseStat.RdevMajor == 10 && fuseStat.RdevMinor == 229, Is.True);
        Assert.That(end, Is.EqualTo(new HelperEnd(false, null)));
        File.Delete(imagePath);
    }

    [Test]
    public void AbortReachesTheService()
    {
        (SafeFd helperSock, SafeFd serviceSock) = TestFds.SeqPacketPair();
        using ServiceEndpoint ep = new(serviceSock);
        using HelperClient client = new(helperSock);
        client.Abort("mount: fsmount failed: Invalid argument\nsecond line");
        HelperEnd end = ep.WaitForHelperEnd(TimeSpan.FromSeconds(10));
        Assert.That(end.Aborted, Is.True);
        Assert.That(end.Reason, Is.EqualTo("mount: fsmount failed: Invalid argument?second line"));
    }

    [Test]
    public void ErrorRoundTripIsOneSanitisedLine()
    {
        (SafeFd helperSock, SafeFd serviceSock) = TestFds.SeqPacketPair();
        using ServiceEndpoint ep = new(serviceSock);
        using HelperClient client = new(helperSock);
        ep.SendError(ProtocolErrorCode.CorruptFilesystem, "bad superblock magic 0x1234\n\u001b[31mred");
        ProtocolException e = Assert.Throws<ProtocolException>(() => client.ReceiveMountReply())!;
        Assert.That(e.FromPeer, Is.True);
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.CorruptFilesystem));
        Assert.That(e.Message, Is.EqualTo("bad superblock magic 0x1234??[31mred"));
    }

    [Test]
    public void LongErrorReasonIsCutToTheLimit()
    {
        (SafeFd helperSock, SafeFd serviceSock) = TestFds.SeqPacketPair();
        using ServiceEndpoint ep = new(serviceSock);
        using HelperClient client = new(helperSock);
        ep.SendError(ProtocolErrorCode.MountRefused, new string('\u00e9', 5000));
        ProtocolException e = Assert.Throws<ProtocolException>(() => client.WaitReady())!;
        Assert.That(System.Text.Encoding.UTF8.GetByteCount(e.Message), Is.LessThanOrEqualTo(ProtocolLimits.MaxReasonBytes));
        Assert.That(e.Message, Does.StartWith("\u00e9\u00e9"));
    }
}
