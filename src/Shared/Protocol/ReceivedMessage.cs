namespace Safemount.Shared.Protocol;

/// <summary>One validated datagram: its type, its body (a copy) and the fds it carried (owned).</summary>
public sealed class ReceivedMessage : IDisposable
{
    internal ReceivedMessage(MessageType type, byte[] body, ReceivedFds fds)
    {
        Type = type;
        Body = body;
        Fds = fds;
    }

    public MessageType Type { get; }

    public byte[] Body { get; }

    public ReceivedFds Fds { get; }

    public MessageReader Reader() => new(Type, Body);

    public void Dispose() => Fds.Dispose();
}
