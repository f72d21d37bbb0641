using Safemount.Shared.Interop;

namespace Safemount.Shared.Protocol;

/// <summary>
/// The helper's end of protocol version 1 (docs/PROTOCOL.md): HELLO → MOUNT_REQUEST →
/// FUSE_FD → (mount) → READY, or ABORT. Every wait has a deadline from
/// <see cref="ProtocolTimeouts"/>. An ERROR from the service surfaces as a
/// <see cref="ProtocolException"/> with <see cref="ProtocolException.FromPeer"/> set.
/// </summary>
public sealed class HelperClient : IDisposable
{
    private readonly MessageChannel _channel;
    private readonly ProtocolTimeouts _timeouts;

    /// <summary>Takes ownership of an already-connected SOCK_SEQPACKET socket.</summary>
    public HelperClient(SafeFd socket, ProtocolTimeouts? timeouts = null)
    {
        _channel = new MessageChannel(socket);
        _timeouts = timeouts ?? ProtocolTimeouts.Default;
    }

    /// <summary>The version chosen in the handshake (0 before it).</summary>
    public uint Version { get; private set; }

    /// <summary>The capabilities the service agreed to in HELLO_REPLY (None from a service that
    /// answered the plain {version}).</summary>
    public HelloFlags AgreedCapabilities { get; private set; }

    /// <summary>
    /// Connects to the service socket at <paramref name="path"/>, retrying EAGAIN (backlog full)
    /// until the deadline. ENOENT / ECONNREFUSED are thrown as <see cref="ErrnoException"/> so
    /// the caller can fall back to starting the service itself.
    /// </summary>
    public static HelperClient Connect(string path, ProtocolTimeouts? timeouts = null)
    {
        ProtocolTimeouts t = timeouts ?? ProtocolTimeouts.Default;
        Deadline deadline = Deadline.After(t.Step);
        while (true)
        {
            SafeFd socket = SocketInterop.Socket(SocketInterop.AF_UNIX, SocketInterop.SOCK_SEQPACKET);
            Errno e = SocketInterop.Connect(socket, path);
            if (e == Errno.None)
            {
                return new HelperClient(socket, t);
            }

            socket.Dispose();
            if (e != Errno.EAGAIN)
            {
                throw new ErrnoException($"connect {path}", e);
            }

            if (deadline.IsExpired)
            {
                throw new ProtocolException(ProtocolErrorCode.Timeout, $"timed out connecting to {path}");
            }

            Thread.Sleep(10);
        }
    }

    /// <summary>
    /// HELLO {Min, Max, flags} → HELLO_REPLY {version} or, when <paramref name="flags"/> asks for a
    /// capability, possibly {version, flags}; the service may agree only to what was asked.
    /// Returns the chosen version.
    /// </summary>
    public uint Handshake(HelloFlags flags = HelloFlags.None)
    {
        Deadline deadline = Deadline.After(_timeouts.Step);
        MessageWriter w = new(MessageType.Hello);
        new HelloMessage(ProtocolVersion.Min, ProtocolVersion.Max, (uint)flags).Encode(w);
        _channel.Send(w, null, deadline);
        using ReceivedMessage m = Expect(MessageType.HelloReply, deadline, "waiting for HELLO_REPLY");
        MessageReader r = m.Reader();
        uint version = r.ReadUInt32("version");
        HelloFlags asked = flags & HelloFlags.ReplyCapabilities;
        HelloFlags agreed = HelloFlags.None;
        if (asked != HelloFlags.None && r.Remaining > 0)
        {
            uint raw = r.ReadUInt32("flags");
            if ((raw & ~(uint)asked) != 0)
            {
                throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"HELLO_REPLY flags 0x{raw:x} agree to capabilities the helper did not ask for (0x{(uint)asked:x})");
            }

            agreed = (HelloFlags)raw;
        }

        r.EnsureEnd();
        if (version < ProtocolVersion.Min || version > ProtocolVersion.Max)
        {
            throw new ProtocolException(ProtocolErrorCode.VersionMismatch, $"service chose protocol version {version}, helper speaks {ProtocolVersion.Min}..{ProtocolVersion.Max}");
        }

        Version = version;
        AgreedCapabilities = agreed;
        return version;
    }

    /// <summary>
    /// MOUNT_REQUEST with <see cref="MountRequest.Device"/> as its fd, then, when the request has a
    /// <see cref="MountRequest.DirectDevice"/>, DIRECT_DEVICE with that fd (the caller keeps
    /// ownership of both). A direct device needs the capability agreed in <see cref="Handshake"/>.
    /// </summary>
    public void SendMount(MountRequest request)
    {
        if (request.DirectDevice is not null && (AgreedCapabilities & HelloFlags.DirectDevice) == 0)
        {
            throw new InvalidOperationException("the service did not agree to a direct-I/O device fd");
        }

        Deadline deadline = Deadline.After(_timeouts.Step);
        MessageWriter w = new(MessageType.MountRequest);
        request.EncodeBody(w);
        _channel.Send(w, request.Device, deadline);
        if (request.DirectDevice is { } direct)
        {
            _channel.Send(new MessageWriter(MessageType.DirectDevice), direct, deadline);
        }
    }

    /// <summary>Waits (MountReply deadline: the service may replay a journal) for MOUNT_ACCEPTED.</summary>
    public MountAccepted ReceiveMountReply()
    {
        using ReceivedMessage m = Expect(MessageType.MountAccepted, Deadline.After(_timeouts.MountReply), "waiting for the service to accept the mount");
        MessageReader r = m.Reader();
        return MountAccepted.Decode(ref r);
    }

    /// <summary>FUSE_FD with the /dev/fuse fd (the caller keeps ownership); the flags u32 goes
    /// out only when <paramref name="flags"/> is not None (an empty body means None).</summary>
    public void SendFuseFd(SafeFd fuse, FuseFdFlags flags = FuseFdFlags.None)
    {
        MessageWriter w = new(MessageType.FuseFd);
        if (flags != FuseFdFlags.None)
        {
            w.WriteUInt32((uint)flags);
        }

        _channel.Send(w, fuse, Deadline.After(_timeouts.Step));
    }

    /// <summary>Waits for FUSE_FD_ACCEPTED: the service is now reading /dev/fuse. From here on no fd is accepted.</summary>
    public void WaitFuseFdAccepted()
    {
        using ReceivedMessage m = Expect(MessageType.FuseFdAccepted, Deadline.After(_timeouts.Step), "waiting for FUSE_FD_ACCEPTED");
        m.Reader().EnsureEnd();
        _channel.StopAcceptingFds();
    }

    /// <summary>Waits for READY: the service answered FUSE_INIT.</summary>
    public void WaitReady()
    {
        using ReceivedMessage m = Expect(MessageType.Ready, Deadline.After(_timeouts.Ready), "waiting for READY");
        m.Reader().EnsureEnd();
    }

    /// <summary>Best-effort ABORT {reason}; never throws (the service may already be gone).</summary>
    public void Abort(string reason)
    {
        MessageWriter w = new(MessageType.Abort);
        new AbortMessage(reason).Encode(w);
        _channel.TrySend(w, Deadline.After(_timeouts.Step));
    }

    /// <summary>Receives the next message; ERROR becomes a FromPeer exception, any other type than expected an UnexpectedMessage.</summary>
    private ReceivedMessage Expect(MessageType expected, Deadline deadline, string waitingFor)
    {
        ReceivedMessage m = _channel.Receive(deadline, waitingFor);
        if (m.Type == expected)
        {
            return m;
        }

        using (m)
        {
            if (m.Type == MessageType.Error)
            {
                throw ErrorMessage.ToPeerException(m);
            }

            throw new ProtocolException(ProtocolErrorCode.UnexpectedMessage, $"unexpected {m.Type} message while {waitingFor}");
        }
    }

    public void Dispose() => _channel.Dispose();
}
