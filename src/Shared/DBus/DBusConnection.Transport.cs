using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.Shared.DBus;

/// <summary>Byte transport of the stream socket: whole writes and exact reads, each bounded by a deadline.</summary>
public sealed partial class DBusConnection
{
    /// <summary>Receives one message: 16 bytes, the length they imply (bounded), the rest.</summary>
    private DBusMessage Receive(Deadline deadline)
    {
        byte[] first = new byte[16];
        ReceiveExactly(first, deadline);
        int total = DBusMessage.TotalLength(first);
        byte[] data = new byte[total];
        first.CopyTo(data, 0);
        ReceiveExactly(data.AsSpan(16), deadline);
        return DBusMessage.Decode(data);
    }

    /// <summary>
    /// Writes all of <paramref name="data"/>; the fds go with the first sendmsg (SCM_RIGHTS attach
    /// to the first byte of a stream write).
    /// </summary>
    private void SendAll(ReadOnlySpan<byte> data, ReadOnlySpan<SafeFd> fds, Deadline deadline)
    {
        int sent = 0;
        while (sent < data.Length)
        {
            long n = SocketInterop.SendMessage(_socket, data[sent..], sent == 0 ? fds : ReadOnlySpan<SafeFd>.Empty, SocketInterop.MSG_DONTWAIT);
            if (n > 0)
            {
                sent += (int)n;
                continue;
            }

            Errno e = n == 0 ? Errno.EAGAIN : (Errno)(-n);
            if (e != Errno.EAGAIN)
            {
                throw new DBusException($"D-Bus sendmsg: {ErrnoException.Describe(e)}");
            }

            WaitFor(SocketInterop.POLLOUT, deadline);
        }
    }

    /// <summary>Fills <paramref name="target"/> from the socket. No fd is accepted (no control buffer: the kernel installs none).</summary>
    private void ReceiveExactly(Span<byte> target, Deadline deadline)
    {
        int filled = 0;
        while (filled < target.Length)
        {
            if (_buffered > 0)
            {
                int take = Math.Min(_buffered, target.Length - filled);
                _receiveBuffer.AsSpan(_bufferedAt, take).CopyTo(target[filled..]);
                _bufferedAt += take;
                _buffered -= take;
                filled += take;
                continue;
            }

            List<SafeFd> fds = new();
            long n = SocketInterop.ReceiveMessage(_socket, _receiveBuffer, 0, fds, out _, SocketInterop.MSG_DONTWAIT);
            foreach (SafeFd fd in fds)
            {
                fd.Dispose();
            }

            if (n == -(long)Errno.EAGAIN)
            {
                WaitFor(SocketInterop.POLLIN, deadline);
                continue;
            }

            if (n < 0)
            {
                throw new DBusException($"D-Bus recvmsg: {ErrnoException.Describe((Errno)(-n))}");
            }

            if (n == 0)
            {
                throw new DBusException("the D-Bus peer closed the connection");
            }

            _bufferedAt = 0;
            _buffered = (int)n;
        }
    }

    private void WaitFor(short events, Deadline deadline)
    {
        while (true)
        {
            if (deadline.IsExpired)
            {
                throw new DBusException("timed out waiting for the D-Bus peer");
            }

            int r = SocketInterop.Poll(_socket, events, deadline.RemainingMilliseconds);
            if (r < 0)
            {
                throw new DBusException($"poll: {ErrnoException.Describe((Errno)(-r))}");
            }

            if (r != 0)
            {
                return;
            }
        }
    }
}
