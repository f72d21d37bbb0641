using Safemount.Shared.Interop;

namespace Safemount.Shared.Protocol;

/// <summary>
/// The service's end of protocol version 1 (docs/PROTOCOL.md). Checks every fd it receives by
/// fstat, answers helper protocol violations with a best-effort ERROR before throwing, and
/// stops accepting fds after FUSE_FD_ACCEPTED. An ABORT from the helper surfaces as a
/// <see cref="ProtocolException"/> with reason <see cref="ProtocolErrorCode.Aborted"/>.
/// </summary>
public sealed partial class ServiceEndpoint : IDisposable
{
    /// <summary>/dev/fuse is char device 10:229 (MISC_MAJOR, FUSE_MINOR).</summary>
    public const uint FuseMajor = 10;
    public const uint FuseMinor = 229;

    private readonly MessageChannel _channel;
    private readonly ProtocolTimeouts _timeouts;

    /// <summary>Takes ownership of an already-connected SOCK_SEQPACKET socket.</summary>
    public ServiceEndpoint(SafeFd socket, ProtocolTimeouts? timeouts = null)
    {
        _channel = new MessageChannel(socket);
        _timeouts = timeouts ?? ProtocolTimeouts.Default;
    }

    /// <summary>The version chosen in the handshake (0 before it).</summary>
    public uint Version { get; private set; }

    /// <summary>The helper's HELLO flags (valid after <see cref="Handshake"/>).</summary>
    public HelloFlags HelperFlags { get; private set; }

    /// <summary>The capabilities this service answered in HELLO_REPLY (what the helper asked and this service offers).</summary>
    public HelloFlags AgreedCapabilities { get; private set; }

    /// <summary>The connected socket, still owned by the endpoint (for a sandbox's fd allowlist).</summary>
    public SafeFd Socket => _channel.Socket;

    /// <summary>
    /// Receives HELLO and answers HELLO_REPLY with the highest common version, or ERROR
    /// VersionMismatch. A helper that asked for a capability (<see cref="HelloFlags.ReplyCapabilities"/>)
    /// gets the extended reply {version, flags}; any other helper the plain {version}.
    /// </summary>
    public uint Handshake()
    {
        Deadline deadline = Deadline.After(_timeouts.Step);
        using ReceivedMessage m = Expect(MessageType.Hello, deadline, "waiting for HELLO");
        HelloMessage hello;
        try
        {
            MessageReader r = m.Reader();
            hello = HelloMessage.Decode(ref r);
        }
        catch (ProtocolException e)
        {
            TrySendError(e.Reason, e.Message);
            throw;
        }

        uint low = Math.Max(hello.MinVersion, ProtocolVersion.Min);
        uint high = Math.Min(hello.MaxVersion, ProtocolVersion.Max);
        if (low > high)
        {
            string text = $"no common protocol version: helper speaks {hello.MinVersion}..{hello.MaxVersion}, service {ProtocolVersion.Min}..{ProtocolVersion.Max}";
            TrySendError(ProtocolErrorCode.VersionMismatch, text);
            throw new ProtocolException(ProtocolErrorCode.VersionMismatch, text);
        }

        HelloFlags asked = (HelloFlags)hello.Flags & HelloFlags.ReplyCapabilities;
        MessageWriter w = new(MessageType.HelloReply);
        w.WriteUInt32(high);
        if (asked != HelloFlags.None)
        {
            w.WriteUInt32((uint)asked);
        }

        _channel.Send(w, null, deadline);
        Version = high;
        HelperFlags = (HelloFlags)hello.Flags;
        AgreedCapabilities = asked;
        return high;
    }

    /// <summary>
    /// Receives MOUNT_REQUEST. The device fd is checked by fstat: a block device or a regular
    /// file, else BadFdType. A request flagged DirectDevice (allowed only when HELLO agreed the
    /// capability) is followed by DIRECT_DEVICE, whose fd must be the same device (rdev, or
    /// dev+inode for a regular file), open O_RDWR with O_DIRECT, else BadFdType. The caller owns
    /// the returned request (and its fds).
    /// </summary>
    public MountRequest ReceiveMountRequest()
    {
        Deadline deadline = Deadline.After(_timeouts.Step);
        MountRequest request;
        StatxResult st;
        bool directFollows;
        using (ReceivedMessage m = Expect(MessageType.MountRequest, deadline, "waiting for MOUNT_REQUEST"))
        {
            try
            {
                SafeFd dev = m.Fds.Take(0);
                try
                {
                    st = FileInterop.FStat(dev);
                    if (!st.IsBlockDevice && !st.IsRegular)
                    {
                        throw new ProtocolException(ProtocolErrorCode.BadFdType, $"the device fd is not a block device or regular file (mode 0{Convert.ToString(st.Mode, 8)})");
                    }

                    MessageReader r = m.Reader();
                    request = MountRequest.Decode(ref r, dev, out directFollows);
                }
                catch
                {
                    dev.Dispose();
                    throw;
                }

                if (directFollows && (AgreedCapabilities & HelloFlags.DirectDevice) == 0)
                {
                    request.Dispose();
                    throw new ProtocolException(ProtocolErrorCode.MalformedMessage, "malformed MountRequest message: DirectDevice flag without the capability agreed in HELLO");
                }
            }
            catch (ProtocolException e)
            {
                TrySendError(e.Reason, e.Message);
                throw;
            }
        }

        if (!directFollows)
        {
            return request;
        }

        try
        {
            request.AttachDirectDevice(ReceiveDirectDevice(st, deadline));
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>DIRECT_DEVICE: an empty body and one fd, checked against the device's statx <paramref name="device"/>.</summary>
    private SafeFd ReceiveDirectDevice(StatxResult device, Deadline deadline)
    {
        using ReceivedMessage m = Expect(MessageType.DirectDevice, deadline, "waiting for DIRECT_DEVICE");
        try
        {
            m.Reader().EnsureEnd();
            SafeFd direct = m.Fds.Take(0);
            try
            {
                StatxResult st = FileInterop.FStat(direct);
                bool same = device.IsBlockDevice
                    ? st.IsBlockDevice && st.RdevMajor == device.RdevMajor && st.RdevMinor == device.RdevMinor
                    : st.IsRegular && st.DevMajor == device.DevMajor && st.DevMinor == device.DevMinor && st.Inode == device.Inode;
                if (!same)
                {
                    throw new ProtocolException(ProtocolErrorCode.BadFdType, "the direct-I/O fd is not the device of the MOUNT_REQUEST");
                }

                int flags = FileInterop.GetStatusFlags(direct);
                if ((flags & FileInterop.O_DIRECT) == 0 || (flags & FileInterop.O_ACCMODE) != FileInterop.O_RDWR)
                {
                    throw new ProtocolException(ProtocolErrorCode.BadFdType, $"the direct-I/O fd is not open O_RDWR|O_DIRECT (flags 0{Convert.ToString(flags, 8)})");
                }

                return direct;
            }
            catch
            {
                direct.Dispose();
                throw;
            }
        }
        catch (ProtocolException e)
        {
            TrySendError(e.Reason, e.Message);
            throw;
        }
    }

    /// <summary>MOUNT_ACCEPTED.</summary>
    public void SendMountAccepted(MountAccepted accepted)
    {
        MessageWriter w = new(MessageType.MountAccepted);
        accepted.EncodeBody(w);
        _channel.Send(w, null, Deadline.After(_timeouts.Step));
    }

    /// <summary>ERROR {code, reason}; the reason is cut to one line of at most MaxReasonBytes.</summary>
    public void SendError(ProtocolErrorCode code, string reason) =>
        _channel.Send(ErrorWriter(code, reason), null, Deadline.After(_timeouts.Step));

    /// <summary>Receives FUSE_FD; the fd must be char device 10:229, else BadFdType. The caller owns it.</summary>
    public SafeFd ReceiveFuseFd() => ReceiveFuseFd(out _);

    /// <summary>Receives FUSE_FD and its optional flags (empty body: None; a bit this version
    /// does not define: MalformedMessage).</summary>
    public SafeFd ReceiveFuseFd(out FuseFdFlags flags)
    {
        flags = FuseFdFlags.None;
        using ReceivedMessage m = Expect(MessageType.FuseFd, Deadline.After(_timeouts.Step), "waiting for FUSE_FD");
        try
        {
            MessageReader r = m.Reader();
            if (r.Remaining > 0)
            {
                uint raw = r.ReadUInt32("flags");
                if ((raw & ~(uint)FuseFdFlags.Known) != 0)
                {
                    throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"FUSE_FD flags 0x{raw:x} has unknown bits");
                }

                flags = (FuseFdFlags)raw;
            }

            r.EnsureEnd();
            SafeFd fuse = m.Fds.Take(0);
            StatxResult st = FileInterop.FStat(fuse);
            if (!st.IsCharDevice || st.RdevMajor != FuseMajor || st.RdevMinor != FuseMinor)
            {
                fuse.Dispose();
                throw new ProtocolException(ProtocolErrorCode.BadFdType, $"the FUSE fd is not /dev/fuse (char {FuseMajor}:{FuseMinor})");
            }

            return fuse;
        }
        catch (ProtocolException e)
        {
            TrySendError(e.Reason, e.Message);
            throw;
        }
    }

    /// <summary>FUSE_FD_ACCEPTED: call once a thread reads /dev/fuse. From here on no fd is accepted.</summary>
    public void SendFuseFdAccepted()
    {
        _channel.StopAcceptingFds();
        _channel.Send(new MessageWriter(MessageType.FuseFdAccepted), null, Deadline.After(_timeouts.Step));
    }

    /// <summary>READY: FUSE_INIT has been answered.</summary>
    public void SendReady() =>
        _channel.Send(new MessageWriter(MessageType.Ready), null, Deadline.After(_timeouts.Step));

    /// <summary>
    /// Waits until the helper sends ABORT or closes the connection (normal after READY).
    /// <paramref name="timeout"/> null waits forever. Any other message is an UnexpectedMessage error.
    /// </summary>
    public HelperEnd WaitForHelperEnd(TimeSpan? timeout = null)
    {
        Deadline deadline = timeout is { } t ? Deadline.After(t) : Deadline.Infinite;
        try
        {
            using ReceivedMessage m = _channel.Receive(deadline, "waiting for the helper to finish");
            if (m.Type == MessageType.Abort)
            {
                return new HelperEnd(true, DecodeAbort(m));
            }

            throw new ProtocolException(ProtocolErrorCode.UnexpectedMessage, $"unexpected {m.Type} message after setup");
        }
        catch (ProtocolException e) when (e.Reason == ProtocolErrorCode.PeerClosed)
        {
            return new HelperEnd(false, null);
        }
    }

    private static string DecodeAbort(ReceivedMessage m)
    {
        MessageReader r = m.Reader();
        return AbortMessage.Decode(ref r).Reason;
    }

    /// <summary>Receives the next message; ABORT and ERROR become FromPeer exceptions, other types UnexpectedMessage.</summary>
    private ReceivedMessage Expect(MessageType expected, Deadline deadline, string waitingFor)
    {
        ReceivedMessage m;
        try
        {
            m = _channel.Receive(deadline, waitingFor);
        }
        catch (ProtocolException e) when (e.Reason is not ProtocolErrorCode.PeerClosed and not ProtocolErrorCode.SystemError)
        {
            TrySendError(e.Reason, e.Message);
            throw;
        }

        if (m.Type == expected)
        {
            return m;
        }

        using (m)
        {
            if (m.Type == MessageType.Abort)
            {
                throw new ProtocolException(ProtocolErrorCode.Aborted, DecodeAbort(m), fromPeer: true);
            }

            if (m.Type == MessageType.Error)
            {
                throw ErrorMessage.ToPeerException(m);
            }

            string text = $"unexpected {m.Type} message while {waitingFor}";
            TrySendError(ProtocolErrorCode.UnexpectedMessage, text);
            throw new ProtocolException(ProtocolErrorCode.UnexpectedMessage, text);
        }
    }

    /// <summary>Best-effort ERROR before throwing: the helper may already be gone.</summary>
    private void TrySendError(ProtocolErrorCode code, string reason) =>
        _channel.TrySend(ErrorWriter(code, reason), Deadline.After(_timeouts.Step));

    private static MessageWriter ErrorWriter(ProtocolErrorCode code, string reason)
    {
        MessageWriter w = new(MessageType.Error);
        new ErrorMessage(code, reason).Encode(w);
        return w;
    }

    public void Dispose() => _channel.Dispose();
}
