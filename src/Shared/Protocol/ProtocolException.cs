namespace Safemount.Shared.Protocol;

/// <summary>
/// A failed helper↔service exchange. <see cref="FromPeer"/> is true when the peer sent ERROR
/// (or ABORT) and the message is the peer's one-line reason, already sanitised.
/// </summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(ProtocolErrorCode reason, string message, bool fromPeer = false, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
        FromPeer = fromPeer;
    }

    public ProtocolErrorCode Reason { get; }

    public bool FromPeer { get; }
}
