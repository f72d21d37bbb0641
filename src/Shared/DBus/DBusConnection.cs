using System.Globalization;
using System.Text;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.DBus;

/// <summary>
/// A minimal D-Bus client connection over AF_UNIX SOCK_STREAM: SASL EXTERNAL authentication with
/// unix-fd negotiation (D-Bus specification, "Authentication Protocol"), then method calls that
/// wait for their reply. Two kinds of peer: systemd's private socket (peer to peer: no Hello, no
/// destination) or a message bus (Hello first, calls carry a destination). Every wait has a
/// <see cref="Deadline"/>; every length from the peer is bounded by <see cref="DBusLimits"/>.
/// Not thread-safe: one caller at a time. Owns the socket.
/// </summary>
public sealed partial class DBusConnection : IDisposable
{
    private readonly SafeFd _socket;
    private readonly bool _isBus;
    private readonly byte[] _receiveBuffer = new byte[4096];
    private int _buffered;
    private int _bufferedAt;
    private uint _nextSerial = 1;

    private DBusConnection(SafeFd socket, bool isBus)
    {
        _socket = socket;
        _isBus = isBus;
    }

    /// <summary>The unique name the bus gave in its Hello reply (null on a peer-to-peer connection).</summary>
    public string? UniqueName { get; private set; }

    /// <summary>
    /// Connects to <paramref name="path"/>, authenticates as this process's euid and negotiates fd
    /// passing; on a bus (<paramref name="isBus"/>) also calls Hello. A connect failure is an
    /// <see cref="ErrnoException"/> (the caller may try another address); anything later a
    /// <see cref="DBusException"/>.
    /// </summary>
    public static DBusConnection Connect(string path, bool isBus, Deadline deadline)
    {
        SafeFd socket = SocketInterop.Socket(SocketInterop.AF_UNIX, SocketInterop.SOCK_STREAM);
        Errno e = SocketInterop.Connect(socket, path);
        if (e != Errno.None)
        {
            socket.Dispose();
            throw new ErrnoException($"connect {path}", e);
        }

        DBusConnection c = new(socket, isBus);
        try
        {
            c.Authenticate(deadline);
            if (!isBus)
            {
                // A first call without fds: once it is answered the peer has left its
                // authentication state for sure, and a later message may carry fds.
                c.Call(string.Empty, "/", "org.freedesktop.DBus.Peer", "Ping", string.Empty, ReadOnlySpan<byte>.Empty, ReadOnlySpan<SafeFd>.Empty, deadline);
            }
            else
            {
                DBusMessage reply = c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", string.Empty, ReadOnlySpan<byte>.Empty, ReadOnlySpan<SafeFd>.Empty, deadline);
                if (reply.Signature != "s")
                {
                    throw new DBusException($"Hello replied with signature '{reply.Signature}', expected 's'");
                }

                c.UniqueName = reply.BodyReader().ReadString();
            }

            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a METHOD_CALL and waits for its METHOD_RETURN, skipping unrelated messages (signals).
    /// An ERROR reply throws <see cref="DBusException"/> with its name and text. <paramref name="fds"/>
    /// go with the message as SCM_RIGHTS (the caller keeps ownership); the body refers to them by
    /// index ('h'). <paramref name="destination"/> is dropped on a peer-to-peer connection.
    /// </summary>
    public DBusMessage Call(string destination, string path, string @interface, string member, string signature, ReadOnlySpan<byte> body, ReadOnlySpan<SafeFd> fds, Deadline deadline)
    {
        if (fds.Length > DBusLimits.MaxFdsPerMessage)
        {
            throw new ArgumentOutOfRangeException(nameof(fds));
        }

        uint serial = _nextSerial++;
        byte[] message = DBusMessage.EncodeMethodCall(serial, _isBus ? destination : null, path, @interface, member, signature, body, (uint)fds.Length);
        SendAll(message, fds, deadline);
        for (int skipped = 0; skipped <= DBusLimits.MaxUnrelatedMessages; skipped++)
        {
            DBusMessage m = Receive(deadline);
            if (m.ReplySerial != serial || m.Type is not (DBusMessageType.MethodReturn or DBusMessageType.Error))
            {
                continue;
            }

            if (m.Type == DBusMessageType.Error)
            {
                string text = m.Signature.StartsWith('s') ? m.BodyReader().ReadString() : string.Empty;
                throw new DBusException($"{m.ErrorName}: {text}", m.ErrorName);
            }

            return m;
        }

        throw new DBusException($"no reply to {member} among {DBusLimits.MaxUnrelatedMessages} messages");
    }

    /// <summary>
    /// SASL: NUL, AUTH EXTERNAL hex(euid), NEGOTIATE_UNIX_FD and BEGIN in one write (pipelined, as
    /// sd-bus clients do), then OK guid and AGREE_UNIX_FD. Pipelining matters: an sd-bus server
    /// that reads a message carrying fds while still in its authentication state closes the
    /// connection (src/libsystemd/sd-bus/bus-socket.c, bus_socket_read_auth), so nothing is sent
    /// after BEGIN until the server has answered lines it read in the same buffer as BEGIN.
    /// </summary>
    private void Authenticate(Deadline deadline)
    {
        string uid = ProcessInterop.GetEuid().ToString(CultureInfo.InvariantCulture);
        string hexUid = Convert.ToHexString(Encoding.ASCII.GetBytes(uid)).ToLowerInvariant();
        SendAll(Encoding.ASCII.GetBytes($"\0AUTH EXTERNAL {hexUid}\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n"), ReadOnlySpan<SafeFd>.Empty, deadline);
        string ok = ReadSaslLine(deadline);
        if (!ok.StartsWith("OK ", StringComparison.Ordinal))
        {
            throw new DBusException($"D-Bus authentication refused: {ok}");
        }

        string agree = ReadSaslLine(deadline);
        if (agree != "AGREE_UNIX_FD")
        {
            throw new DBusException($"the D-Bus peer does not pass file descriptors: {agree}");
        }
    }

    /// <summary>One CRLF-terminated ASCII line, at most <see cref="DBusLimits.MaxSaslLineBytes"/>, without the CRLF.</summary>
    private string ReadSaslLine(Deadline deadline)
    {
        List<byte> line = new();
        Span<byte> one = stackalloc byte[1];
        while (true)
        {
            ReceiveExactly(one, deadline);
            line.Add(one[0]);
            if (line.Count >= 2 && line[^2] == '\r' && line[^1] == '\n')
            {
                line.RemoveRange(line.Count - 2, 2);
                foreach (byte b in line)
                {
                    if (b is < 0x20 or > 0x7e)
                    {
                        throw new DBusException("SASL line with a non-printable byte");
                    }
                }

                return Encoding.ASCII.GetString(line.ToArray());
            }

            if (line.Count >= DBusLimits.MaxSaslLineBytes)
            {
                throw new DBusException($"SASL line longer than {DBusLimits.MaxSaslLineBytes} bytes");
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
