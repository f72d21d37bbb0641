using System.Runtime.InteropServices;
using System.Text;

namespace Safemount.Shared.Interop;

/// <summary>
/// AF_UNIX socket system calls (socket(2), socketpair(2), connect(2), bind(2), listen(2),
/// accept4(2), sendmsg(2)/recvmsg(2) with SCM_RIGHTS, poll(2), getsockopt SO_PEERCRED,
/// shutdown(2)). Every new fd is SOCK_CLOEXEC / MSG_CMSG_CLOEXEC and owned by a
/// <see cref="SafeFd"/> from the moment it exists.
/// </summary>
public static unsafe partial class SocketInterop
{
    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_NETLINK = 16;
    public const int SOCK_RAW = 3;
    public const int SOCK_STREAM = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int SOL_SOCKET = 1;
    public const int SO_PEERCRED = 17;
    public const int SCM_RIGHTS = 1;

    public const int MSG_CTRUNC = 0x8;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    public const int SHUT_RD = 0;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;

    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    /// <summary>sizeof(sockaddr_un.sun_path); a path must fit with its NUL.</summary>
    public const int SunPathLength = 108;

    /// <summary>The most fds one message may carry (bounds the control buffer).</summary>
    public const int MaxFdsPerCall = 8;

    /// <summary>struct sockaddr_un (sys/un.h): sa_family_t sun_family; char sun_path[108].</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct sockaddr_un
    {
        public ushort sun_family;
        public fixed byte sun_path[SunPathLength];
    }

    /// <summary>struct iovec (sys/uio.h): void *iov_base; size_t iov_len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* iov_base;
        public nuint iov_len;
    }

    /// <summary>struct msghdr (sys/socket.h, LP64 layout).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* msg_name;          // optional address
        public uint msg_namelen;        // size of address
        public IoVec* msg_iov;          // scatter/gather array
        public nuint msg_iovlen;        // # elements in msg_iov
        public void* msg_control;       // ancillary data
        public nuint msg_controllen;    // ancillary data buffer len
        public int msg_flags;           // flags on received message
    }

    /// <summary>struct cmsghdr (sys/socket.h, LP64): size_t cmsg_len; int cmsg_level; int cmsg_type.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CmsgHdr
    {
        public nuint cmsg_len;   // data byte count, including header
        public int cmsg_level;   // originating protocol
        public int cmsg_type;    // protocol-specific type
    }

    /// <summary>struct pollfd (poll.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int fd;
        public short events;
        public short revents;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int socket_(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int socketpair_(int domain, int type, int protocol, int* sv);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int connect_(SafeFd fd, sockaddr_un* addr, uint addrlen);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int bind_(SafeFd fd, sockaddr_un* addr, uint addrlen);

    [LibraryImport("libc", EntryPoint = "listen", SetLastError = true)]
    private static partial int listen_(SafeFd fd, int backlog);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    private static partial int accept4_(SafeFd fd, void* addr, void* addrlen, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint sendmsg_(SafeFd fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint recvmsg_(SafeFd fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int poll_(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int getsockopt_(SafeFd fd, int level, int optname, void* optval, uint* optlen);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    private static partial int shutdown_(SafeFd fd, int how);

    /// <summary>CMSG_ALIGN: round up to sizeof(size_t).</summary>
    private static int CmsgAlign(int len) => (len + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    /// <summary>CMSG_SPACE(len): header plus aligned data.</summary>
    private static int CmsgSpace(int len) => CmsgAlign(sizeof(CmsgHdr)) + CmsgAlign(len);

    /// <summary>CMSG_LEN(len): header plus unaligned data.</summary>
    private static int CmsgLen(int len) => CmsgAlign(sizeof(CmsgHdr)) + len;

    /// <summary>socket(2) with SOCK_CLOEXEC always added.</summary>
    public static SafeFd Socket(int domain, int type, int protocol = 0)
    {
        SafeFd handle = new();
        int fd = socket_(domain, type | SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError("socket");
        }

        Marshal.InitHandle(handle, fd);
        return handle;
    }

    /// <summary>socketpair(2) with SOCK_CLOEXEC always added.</summary>
    public static (SafeFd First, SafeFd Second) SocketPair(int domain, int type, int protocol = 0)
    {
        // Allocate the handles first, so nothing leaks between the call and the wrap.
        SafeFd a = new();
        SafeFd b = new();
        int* sv = stackalloc int[2];
        if (socketpair_(domain, type | SOCK_CLOEXEC, protocol, sv) != 0)
        {
            Errno e = (Errno)Marshal.GetLastPInvokeError();
            a.Dispose();
            b.Dispose();
            throw new ErrnoException("socketpair", e);
        }

        Marshal.InitHandle(a, sv[0]);
        Marshal.InitHandle(b, sv[1]);
        return (a, b);
    }

    private static sockaddr_un MakeAddress(string path, out uint length)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length == 0 || bytes.Length >= SunPathLength || Array.IndexOf(bytes, (byte)0) >= 0)
        {
            throw new ErrnoException($"sockaddr_un {path}", Errno.ENAMETOOLONG);
        }

        sockaddr_un addr = default;
        addr.sun_family = AF_UNIX;
        for (int i = 0; i < bytes.Length; i++)
        {
            addr.sun_path[i] = bytes[i];
        }

        length = (uint)(sizeof(ushort) + bytes.Length + 1);
        return addr;
    }

    /// <summary>connect(2) to a filesystem AF_UNIX address; returns 0 or the errno.</summary>
    public static Errno Connect(SafeFd fd, string path)
    {
        sockaddr_un addr = MakeAddress(path, out uint len);
        while (true)
        {
            if (connect_(fd, &addr, len) == 0)
            {
                return Errno.None;
            }

            Errno e = (Errno)Marshal.GetLastPInvokeError();
            if (e != Errno.EINTR)
            {
                return e;
            }
        }
    }

    /// <summary>bind(2) to a filesystem AF_UNIX address.</summary>
    public static void Bind(SafeFd fd, string path)
    {
        sockaddr_un addr = MakeAddress(path, out uint len);
        if (bind_(fd, &addr, len) != 0)
        {
            throw ErrnoException.FromLastError($"bind {path}");
        }
    }

    /// <summary>listen(2).</summary>
    public static void Listen(SafeFd fd, int backlog)
    {
        if (listen_(fd, backlog) != 0)
        {
            throw ErrnoException.FromLastError("listen");
        }
    }

    /// <summary>accept4(2) with SOCK_CLOEXEC.</summary>
    public static SafeFd Accept(SafeFd fd)
    {
        SafeFd handle = new();
        int c;
        do
        {
            c = accept4_(fd, null, null, SOCK_CLOEXEC);
        }
        while (c < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR);
        if (c < 0)
        {
            Errno e = (Errno)Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new ErrnoException("accept4", e);
        }

        Marshal.InitHandle(handle, c);
        return handle;
    }

    /// <summary>
    /// sendmsg(2) of one datagram with MSG_NOSIGNAL, optionally carrying <paramref name="fds"/>
    /// as SCM_RIGHTS. Returns the bytes sent or a negative errno. EINTR is retried.
    /// </summary>
    public static long SendMessage(SafeFd fd, ReadOnlySpan<byte> data, ReadOnlySpan<SafeFd> fds, int flags = 0)
    {
        if (fds.Length > MaxFdsPerCall)
        {
            throw new ArgumentOutOfRangeException(nameof(fds), "more fds than MaxFdsPerCall");
        }

        int controlLength = fds.Length == 0 ? 0 : CmsgSpace(sizeof(int) * fds.Length);
        byte* control = stackalloc byte[CmsgSpace(sizeof(int) * MaxFdsPerCall)];
        new Span<byte>(control, controlLength).Clear();

        // Hold a reference on every passed fd for the duration of the call.
        Span<bool> added = stackalloc bool[fds.Length];
        try
        {
            if (fds.Length > 0)
            {
                CmsgHdr* c = (CmsgHdr*)control;
                c->cmsg_len = (nuint)CmsgLen(sizeof(int) * fds.Length);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                int* data_ = (int*)(control + CmsgAlign(sizeof(CmsgHdr)));
                for (int i = 0; i < fds.Length; i++)
                {
                    bool ok = false;
                    fds[i].DangerousAddRef(ref ok);
                    added[i] = ok;
                    data_[i] = fds[i].Fd;
                }
            }

            fixed (byte* p = data)
            {
                IoVec iov = new() { iov_base = p, iov_len = (nuint)data.Length };
                MsgHdr msg = new()
                {
                    msg_iov = &iov,
                    msg_iovlen = 1,
                    msg_control = controlLength == 0 ? null : control,
                    msg_controllen = (nuint)controlLength,
                };
                while (true)
                {
                    nint n = sendmsg_(fd, &msg, flags | MSG_NOSIGNAL);
                    if (n >= 0)
                    {
                        return n;
                    }

                    int e = Marshal.GetLastPInvokeError();
                    if (e != (int)Errno.EINTR)
                    {
                        return -e;
                    }
                }
            }
        }
        finally
        {
            for (int i = 0; i < fds.Length; i++)
            {
                if (added[i])
                {
                    fds[i].DangerousRelease();
                }
            }
        }
    }

    /// <summary>
    /// recvmsg(2) of one datagram with MSG_CMSG_CLOEXEC. Every fd the kernel installed is added
    /// to <paramref name="receivedFds"/> (owned from that moment), even when the message is
    /// then rejected. <paramref name="msgFlags"/> returns msg_flags (MSG_TRUNC, MSG_CTRUNC).
    /// Room is made for <paramref name="maxFds"/> fds; more set MSG_CTRUNC and the kernel
    /// discards the excess (never installs them). Returns the bytes received (0 = orderly shutdown) or a negative errno.
    /// </summary>
    public static long ReceiveMessage(SafeFd fd, Span<byte> buffer, int maxFds, List<SafeFd> receivedFds, out int msgFlags, int flags = 0)
    {
        if (maxFds < 0 || maxFds > MaxFdsPerCall)
        {
            throw new ArgumentOutOfRangeException(nameof(maxFds));
        }

        // maxFds == 0 passes no control buffer: the kernel then installs no fd at all and
        // reports any that were sent with MSG_CTRUNC.
        int controlLength = maxFds == 0 ? 0 : CmsgSpace(sizeof(int) * maxFds);
        byte* control = stackalloc byte[CmsgSpace(sizeof(int) * MaxFdsPerCall)];
        new Span<byte>(control, controlLength).Clear();
        msgFlags = 0;
        nint n;
        MsgHdr msg;
        fixed (byte* p = buffer)
        {
            IoVec iov = new() { iov_base = p, iov_len = (nuint)buffer.Length };
            while (true)
            {
                msg = new()
                {
                    msg_iov = &iov,
                    msg_iovlen = 1,
                    msg_control = controlLength == 0 ? null : control,
                    msg_controllen = (nuint)controlLength,
                };
                n = recvmsg_(fd, &msg, flags | MSG_CMSG_CLOEXEC);
                if (n >= 0)
                {
                    break;
                }

                int e = Marshal.GetLastPInvokeError();
                if (e != (int)Errno.EINTR)
                {
                    return -e;
                }
            }
        }

        msgFlags = msg.msg_flags;

        // Walk the control messages (CMSG_FIRSTHDR / CMSG_NXTHDR) within msg_controllen.
        int offset = 0;
        int available = (int)Math.Min(msg.msg_controllen, (nuint)controlLength);
        while (offset + sizeof(CmsgHdr) <= available)
        {
            CmsgHdr* c = (CmsgHdr*)(control + offset);
            int len = (int)Math.Min(c->cmsg_len, (nuint)(available - offset));
            if (len < sizeof(CmsgHdr))
            {
                break;
            }

            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            {
                int count = (len - CmsgAlign(sizeof(CmsgHdr))) / sizeof(int);
                int* fdsIn = (int*)(control + offset + CmsgAlign(sizeof(CmsgHdr)));
                for (int i = 0; i < count; i++)
                {
                    SafeFd owned = new();
                    Marshal.InitHandle(owned, fdsIn[i]);
                    receivedFds.Add(owned);
                }
            }

            offset += CmsgAlign(len);
        }

        return n;
    }

    /// <summary>
    /// poll(2) on one fd for <paramref name="events"/>; <paramref name="timeoutMs"/> −1 waits
    /// forever. Returns revents (0 on timeout) or a negative errno. EINTR is returned as 0 so
    /// the caller re-checks its deadline.
    /// </summary>
    public static int Poll(SafeFd fd, short events, int timeoutMs)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            PollFd p = new() { fd = fd.Fd, events = events };
            int r = poll_(&p, 1, timeoutMs);
            if (r < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                return e == (int)Errno.EINTR ? 0 : -e;
            }

            return r == 0 ? 0 : p.revents;
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>getsockopt(SO_PEERCRED): the credentials of the peer at connect/socketpair time.</summary>
    public static PeerCredentials GetPeerCredentials(SafeFd fd)
    {
        PeerCredentials cred = default;
        uint len = (uint)sizeof(PeerCredentials);
        if (getsockopt_(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        {
            throw ErrnoException.FromLastError("getsockopt SO_PEERCRED");
        }

        if (len != sizeof(PeerCredentials))
        {
            throw new ErrnoException("getsockopt SO_PEERCRED", Errno.EINVAL);
        }

        return cred;
    }

    /// <summary>getsockopt(SOL_SOCKET, SO_TYPE), e.g. to check a socket-activated fd.</summary>
    public static int GetSocketType(SafeFd fd)
    {
        const int SO_TYPE = 3;
        int value = 0;
        uint len = sizeof(int);
        if (getsockopt_(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0)
        {
            throw ErrnoException.FromLastError("getsockopt SO_TYPE");
        }

        return value;
    }

    /// <summary>shutdown(2); returns 0 or the errno.</summary>
    public static Errno Shutdown(SafeFd fd, int how) =>
        shutdown_(fd, how) == 0 ? Errno.None : (Errno)Marshal.GetLastPInvokeError();
}
