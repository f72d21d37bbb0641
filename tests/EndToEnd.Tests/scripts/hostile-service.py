#!/usr/bin/python3
# A hostile safemount-ext4 for HostilePeerTests: listens on SOCKET (SOCK_SEQPACKET) as the socket
# unit would, accepts one connection from the real mount.safe.ext4 and misbehaves as MODE says.
# It speaks protocol version 1 (docs/PROTOCOL.md) from the spec, not from the C# code.
# Usage: hostile-service.py SOCKET MODE
import array, fcntl, os, socket, struct, sys, time

path, mode = sys.argv[1], sys.argv[2]
HELLO, HELLO_REPLY, MOUNT_REQUEST, MOUNT_ACCEPTED, FUSE_FD, FUSE_FD_ACCEPTED, READY, ERROR = 1, 2, 3, 4, 5, 6, 7, 8
DIRECT_DEVICE = 10

def msg(tag, body=b""):
    return struct.pack("<II", tag, len(body)) + body

def s16(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b

def accepted(fstype="fuseblk", subtype="safe.ext4", rootmode=0o40755, blksize=4096, label="x", warnings=()):
    body = struct.pack("<III", 0, rootmode, blksize) + s16(fstype) + s16(subtype) + s16(label) + bytes(range(16))
    body += struct.pack("<I", len(warnings)) + b"".join(s16(w) for w in warnings)
    return msg(MOUNT_ACCEPTED, body)

def send_fds(c, data, fds):
    c.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])

def recv(c):
    data, anc, _, _ = c.recvmsg(70000, socket.CMSG_SPACE(16 * 4))
    fds = []
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(array.array("i", payload[: len(payload) - len(payload) % 4]))
    return data, fds

srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(path + ".tmp")
srv.listen(1)
os.rename(path + ".tmp", path)
c, _ = srv.accept()
hello, _ = recv(c)
reply = msg(HELLO_REPLY, struct.pack("<I", 1))

if mode == "die-at-hello":
    os._exit(3)
if mode == "hang-at-hello":
    time.sleep(600)
if mode == "garbage-hello-reply":
    c.send(os.urandom(5) + b"\xff" * 40)
elif mode == "oversized":
    c.send(msg(HELLO_REPLY, b"\0" * 100000))
elif mode == "version-99":
    c.send(msg(HELLO_REPLY, struct.pack("<I", 99)))
elif mode.startswith("fds-"):
    n = int(mode[4:])
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(n)]
    send_fds(c, reply, fds)
elif mode == "direct-unasked-bit":
    # Agrees to DIRECT_DEVICE and to bit 2, which no helper asked for.
    c.send(msg(HELLO_REPLY, struct.pack("<II", 1, 6)))
elif mode == "direct-die-after-request":
    # Agrees to DIRECT_DEVICE, checks what a read-write helper sends (MOUNT_REQUEST bit 1 with the
    # device fd, then DIRECT_DEVICE with one O_RDWR|O_DIRECT fd), and dies: the helper must fail
    # cleanly and leave no loop device once both fds are closed.
    asked = struct.unpack_from("<I", hello, 16)[0]
    c.send(msg(HELLO_REPLY, struct.pack("<II", 1, 2 if asked & 2 else 0)))
    req, dev = recv(c)
    direct_msg, direct = recv(c)
    problems = []
    if not asked & 2:
        problems.append("HELLO flags 0x%x without DIRECT_DEVICE" % asked)
    if struct.unpack_from("<I", req, 8)[0] != 2:
        problems.append("MOUNT_REQUEST flags 0x%x" % struct.unpack_from("<I", req, 8)[0])
    if direct_msg != msg(DIRECT_DEVICE) or len(dev) != 1 or len(direct) != 1:
        problems.append("DIRECT_DEVICE %r with %d+%d fds" % (direct_msg, len(dev), len(direct)))
    elif fcntl.fcntl(direct[0], fcntl.F_GETFL) & (os.O_DIRECT | os.O_ACCMODE) != os.O_DIRECT | os.O_RDWR:
        problems.append("DIRECT_DEVICE fd flags 0%o" % fcntl.fcntl(direct[0], fcntl.F_GETFL))
    elif os.fstat(direct[0]).st_rdev != os.fstat(dev[0]).st_rdev:
        problems.append("DIRECT_DEVICE fd is another device")
    if problems:
        c.send(msg(ERROR, struct.pack("<I", 1) + s16("fake: " + "; ".join(problems))))
        time.sleep(1)
    os._exit(3)
elif mode == "shadow-fd":
    # An fd of the wrong kind where the helper expects none: /etc/shadow itself.
    send_fds(c, reply, [os.open("/etc/shadow", os.O_RDONLY)])
else:
    c.send(reply)
    req, dev = recv(c)
    if mode == "die-after-request":
        os._exit(3)
    if mode == "ask-for-shadow":
        # A request for a path: no such message exists; the tag is one the helper does not know.
        c.send(msg(0x63, s16("/etc/shadow")))
    elif mode == "shadow-subtype":
        c.send(accepted(subtype="../../../etc/shadow"))
    elif mode == "shadow-fstype":
        c.send(accepted(fstype="/etc/shadow"))
    elif mode == "file-rootmode":
        c.send(accepted(rootmode=0o100644))
    elif mode == "blksize-3":
        c.send(accepted(blksize=3))
    elif mode == "hang-before-ready":
        c.send(accepted())
        fuse_msg, fuse = recv(c)
        c.send(msg(FUSE_FD_ACCEPTED))
        time.sleep(600)
    else:
        sys.exit("unknown mode " + mode)
# Hold the connection (and the fds it got) until the helper hangs up.
try:
    while recv(c)[0]:
        pass
except OSError:
    pass
