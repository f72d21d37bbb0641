using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.Protocol;

/// <summary>Steps shared by the raw-peer tests.</summary>
internal static class ProtocolTestSteps
{
    /// <summary>Sends HELLO 1..1 on the raw socket, runs the endpoint's handshake, reads HELLO_REPLY.</summary>
    public static uint Handshake(SafeFd raw, ServiceEndpoint ep)
    {
        MessageWriter w = new(MessageType.Hello);
        new HelloMessage(1, 1, 0).Encode(w);
        SocketInterop.SendMessage(raw, w.Message, ReadOnlySpan<SafeFd>.Empty);
        uint v = ep.Handshake();
        using MessageChannel ch = new(new SafeFd(raw.Fd, ownsHandle: false));
        using ReceivedMessage m = ch.Receive(Deadline.After(TimeSpan.FromSeconds(5)), "HELLO_REPLY");
        Assert.That(m.Type, Is.EqualTo(MessageType.HelloReply));
        return v;
    }
}
