using System.Buffers.Binary;
using Safemount.Shared.Interop;

namespace Safemount.Shared.Protocol;

/// <summary>
/// One AF_UNIX SOCK_SEQPACKET connection carrying protocol messages: one datagram per
/// message, every wait bounded by a <see cref="Deadline"/> (poll), fds accepted only while
/// <see cref="AcceptsFds"/> and only on the types that carry one. Owns the socket.
/// Sending and receiving may happen on two threads at once; two concurrent receivers may not.
/// </summary>
public sealed class MessageChannel : IDisposable
{
    private readonly SafeFd _socket;
    private readonly byte[] _receiveBuffer = new byte[ProtocolLimits.MaxMessageSize];
    private readonly object _sendLock = new();

    public MessageChannel(SafeFd socket) => _socket = socket;

    /// <summary>The connected socket (for SO_PEERCRED or an outside poll); still owned by the channel.</summary>
    public SafeFd Socket => _socket;

    /// <summary>
    /// True during setup. Once false, recvmsg passes no control buffer, so the kernel installs
    /// no fd at all; a peer that sends one gets MSG_CTRUNC and an UnexpectedFds error.
    /// </summary>
    public bool AcceptsFds { get; private set; } = true;

    public void StopAcceptingFds() => AcceptsFds = false;

    /// <summary>How many fds a message of <paramref name="type"/> carries (exactly).</summary>
    public static int FdsCarried(MessageType type) =>
        type is MessageType.MountRequest or MessageType.FuseFd or MessageType.DirectDevice ? 1 : 0;

    public static bool IsKnown(MessageType type) => type >= MessageType.Hello && type <= MessageType.DirectDevice;

    /// <summary>Sends <paramref name="message"/> with <paramref name="fd"/> (only for types that carry one).</summary>
    public void Send(MessageWriter message, SafeFd? fd, Deadline deadline)
    {
        ReadOnlySpan<byte> bytes = message.Message;
        MessageType type = (MessageType)BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if ((fd is null ? 0 : 1) != FdsCarried(type))
        {
            throw new ArgumentException($"{type} carries {FdsCarried(type)} fds");
        }

        ReadOnlySpan<SafeFd> fds = fd is null ? ReadOnlySpan<SafeFd>.Empty : new[] { fd };
        lock (_sendLock)
        {
            while (true)
            {
                long n = SocketInterop.SendMessage(_socket, bytes, fds, SocketInterop.MSG_DONTWAIT);
                if (n == bytes.Length)
                {
                    return;
                }

                if (n >= 0)
                {
                    throw new ProtocolException(ProtocolErrorCode.SystemError, $"sendmsg sent {n} of {bytes.Length} bytes");
                }

                Errno e = (Errno)(-n);
                if (e is Errno.EPIPE or Errno.ECONNRESET)
                {
                    throw PeerClosed();
                }

                if (e != Errno.EAGAIN)
                {
                    throw new ProtocolException(ProtocolErrorCode.SystemError, $"sendmsg: {ErrnoException.Describe(e)}");
                }

                WaitFor(SocketInterop.POLLOUT, deadline, $"sending {type}");
            }
        }
    }

    /// <summary>
    /// Best-effort send of a message that carries no fd (ERROR, ABORT): the peer may already be
    /// gone, so a failure is swallowed.
    /// </summary>
    public void TrySend(MessageWriter message, Deadline deadline)
    {
        try
        {
            Send(message, null, deadline);
        }
        catch (ProtocolException)
        {
        }
        catch (ErrnoException)
        {
        }
    }

    /// <summary>
    /// Receives one datagram and validates the framing: size (MSG_TRUNC), header, body length,
    /// a known type tag, and the fd count for that type. Any fd that arrived is closed when
    /// validation fails. Throws <see cref="ProtocolException"/>.
    /// </summary>
    public ReceivedMessage Receive(Deadline deadline, string waitingFor)
    {
        while (true)
        {
            List<SafeFd> fdList = new();
            long n = SocketInterop.ReceiveMessage(
                _socket,
                _receiveBuffer,
                AcceptsFds ? ProtocolLimits.MaxFdsPerMessage : 0,
                fdList,
                out int msgFlags,
                SocketInterop.MSG_DONTWAIT);
            if (n == -(long)Errno.EAGAIN)
            {
                // Nothing received, so no fd was installed either.
                WaitFor(SocketInterop.POLLIN, deadline, waitingFor);
                continue;
            }

            ReceivedFds fds = new(fdList);
            try
            {
                return Validate(n, msgFlags, fds);
            }
            catch
            {
                fds.Dispose();
                throw;
            }
        }
    }

    private ReceivedMessage Validate(long n, int msgFlags, ReceivedFds fds)
    {
        if (n < 0)
        {
            Errno e = (Errno)(-n);
            if (e is Errno.ECONNRESET or Errno.EPIPE)
            {
                throw PeerClosed();
            }

            throw new ProtocolException(ProtocolErrorCode.SystemError, $"recvmsg: {ErrnoException.Describe(e)}");
        }

        if (n == 0)
        {
            // Every message has an 8-byte header, so a zero-length read is the end of the stream.
            throw PeerClosed();
        }

        if ((msgFlags & SocketInterop.MSG_TRUNC) != 0)
        {
            throw new ProtocolException(ProtocolErrorCode.MessageTooLarge, $"message larger than {ProtocolLimits.MaxMessageSize} bytes");
        }

        if (n < ProtocolLimits.HeaderSize)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"truncated message: {n} bytes, header is {ProtocolLimits.HeaderSize}");
        }

        ReadOnlySpan<byte> datagram = _receiveBuffer.AsSpan(0, (int)n);
        MessageType type = (MessageType)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
        uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(datagram[4..]);
        if (bodyLength != (ulong)(n - ProtocolLimits.HeaderSize))
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"truncated message: header says {bodyLength} body bytes, datagram has {n - ProtocolLimits.HeaderSize}");
        }

        if (!IsKnown(type))
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedMessage, $"unknown message type tag {(uint)type}");
        }

        int carried = FdsCarried(type);
        if ((msgFlags & SocketInterop.MSG_CTRUNC) != 0 || fds.Count > carried)
        {
            if (carried == 0 || !AcceptsFds)
            {
                throw new ProtocolException(ProtocolErrorCode.UnexpectedFds, $"{type} message carried file descriptors");
            }

            throw new ProtocolException(ProtocolErrorCode.TooManyFds, $"{type} message carried more than {carried} file descriptor(s)");
        }

        if (fds.Count < carried)
        {
            throw new ProtocolException(ProtocolErrorCode.MissingFd, $"{type} message carried no file descriptor");
        }

        return new ReceivedMessage(type, datagram[ProtocolLimits.HeaderSize..].ToArray(), fds);
    }

    private static ProtocolException PeerClosed() =>
        new(ProtocolErrorCode.PeerClosed, "the peer closed the connection");

    private void WaitFor(short events, Deadline deadline, string waitingFor)
    {
        while (true)
        {
            if (deadline.IsExpired)
            {
                throw new ProtocolException(ProtocolErrorCode.Timeout, $"timed out {waitingFor}");
            }

            int r = SocketInterop.Poll(_socket, events, deadline.RemainingMilliseconds);
            if (r < 0)
            {
                throw new ProtocolException(ProtocolErrorCode.SystemError, $"poll: {ErrnoException.Describe((Errno)(-r))}");
            }

            if (r != 0)
            {
                // Readable, writable, or HUP/ERR: let the next recvmsg/sendmsg report which.
                return;
            }
        }
    }

    /// <summary>shutdown(SHUT_RDWR) without closing: wakes a thread blocked in Receive.</summary>
    public void Shutdown() => SocketInterop.Shutdown(_socket, SocketInterop.SHUT_RDWR);

    public void Dispose() => _socket.Dispose();
}
