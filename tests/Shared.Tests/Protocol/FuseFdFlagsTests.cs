using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.Protocol;

/// <summary>The optional flags u32 of FUSE_FD (docs/PROTOCOL.md): absent (the first release's
/// empty body) means None; IOMAP_ADDED travels; unknown bits and a cut body are MalformedMessage.</summary>
[TestFixture]
public sealed class FuseFdFlagsTests
{
    private static readonly ProtocolTimeouts Short = new() { Step = TimeSpan.FromSeconds(5) };

    [Test]
    public void HelperClientSendsTheFlagsOnlyWhenSet()
    {
        foreach (FuseFdFlags sent in new[] { FuseFdFlags.None, FuseFdFlags.IomapAdded })
        {
            (SafeFd helper, SafeFd service) = TestFds.SeqPacketPair();
            using HelperClient client = new(helper, Short);
            using ServiceEndpoint ep = new(service, Short);
            using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
            client.SendFuseFd(fuse, sent);
            using SafeFd got = ep.ReceiveFuseFd(out FuseFdFlags flags);
            Assert.That(flags, Is.EqualTo(sent));
            Assert.That(FileInterop.FStat(got).RdevMinor, Is.EqualTo(229u));
        }
    }

    /// <summary>FUSE_FD byte by byte: type 5, body length, body.</summary>
    private static IEnumerable<TestCaseData> Wire()
    {
        yield return new TestCaseData(new byte[] { 5, 0, 0, 0, 0, 0, 0, 0 }, FuseFdFlags.None).SetName("empty body (version 1 as first released)");
        yield return new TestCaseData(new byte[] { 5, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0 }, FuseFdFlags.None).SetName("flags 0");
        yield return new TestCaseData(new byte[] { 5, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0 }, FuseFdFlags.IomapAdded).SetName("IOMAP_ADDED");
    }

    [TestCaseSource(nameof(Wire))]
    public void RawFuseFdIsDecoded(byte[] message, FuseFdFlags expected)
    {
        (SafeFd raw, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd r = raw;
        using ServiceEndpoint ep = new(service, Short);
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        SocketInterop.SendMessage(raw, message, new[] { fuse });
        using SafeFd got = ep.ReceiveFuseFd(out FuseFdFlags flags);
        Assert.That(flags, Is.EqualTo(expected));
    }

    [TestCase(new byte[] { 5, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0 }, TestName = "unknown bit 1")]
    [TestCase(new byte[] { 5, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0x80 }, TestName = "unknown bit 31")]
    [TestCase(new byte[] { 5, 0, 0, 0, 2, 0, 0, 0, 1, 0 }, TestName = "body of 2 bytes")]
    [TestCase(new byte[] { 5, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }, TestName = "trailing bytes")]
    public void MalformedFlagsAreRefused(byte[] message)
    {
        (SafeFd raw, SafeFd service) = TestFds.SeqPacketPair();
        using SafeFd r = raw;
        using ServiceEndpoint ep = new(service, Short);
        using SafeFd fuse = FileInterop.Open("/dev/fuse", FileInterop.O_RDWR);
        SocketInterop.SendMessage(raw, message, new[] { fuse });
        ProtocolException e = Assert.Throws<ProtocolException>(() => ep.ReceiveFuseFd(out _))!;
        Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.MalformedMessage));
    }
}
