#!/usr/bin/python3
# A hostile mount.safe.ext4 for HostilePeerTests: starts the real service the way the helper's
# direct-spawn launcher does (a SOCK_SEQPACKET socketpair, fd 3, SAFEMOUNT_SOCKET_FD=3) and then
# misbehaves as MODE says, speaking protocol version 1 from docs/PROTOCOL.md. It waits for the
# service to exit (at most 30 s) and prints KEY=VALUE lines: error-code (of an ERROR the service
# sent, if any), service-exit, then the service's log (stderr) prefixed "log: ".
# Usage: hostile-helper.py SERVICE IMAGE MODE
import array, fcntl, os, socket, struct, subprocess, sys, tempfile

service, image, mode = sys.argv[1], sys.argv[2], sys.argv[3]
HELLO, HELLO_REPLY, MOUNT_REQUEST, MOUNT_ACCEPTED, FUSE_FD, FUSE_FD_ACCEPTED, READY, ERROR = 1, 2, 3, 4, 5, 6, 7, 8
DIRECT_DEVICE = 10

def msg(tag, body=b""):
    return struct.pack("<II", tag, len(body)) + body

def s16(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b

def send(c, data, fds=()):
    if fds:
        c.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        c.send(data)

hello = msg(HELLO, struct.pack("<III", 1, 1, 0))
size = os.path.getsize(image)
request = msg(MOUNT_REQUEST, struct.pack("<IQ", 1, size) + s16(image) + s16("/mnt/hostile") + s16(""))
# Read-write with bit 1: a DIRECT_DEVICE message follows.
direct_request = msg(MOUNT_REQUEST, struct.pack("<IQ", 2, size) + s16(image) + s16("/mnt/hostile") + s16(""))
if mode.startswith("direct-") and mode != "direct-unagreed":
    hello = msg(HELLO, struct.pack("<III", 1, 1, 2))

if mode == "not-root":
    os.setgid(65534)
    os.setuid(65534)
ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
# Our end out of the way of fd 3, which the service's end takes.
high = fcntl.fcntl(ours.fileno(), fcntl.F_DUPFD_CLOEXEC, 10)
ours.close()
ours = socket.socket(fileno=high)
if theirs.fileno() != 3:
    os.dup2(theirs.fileno(), 3)
proc = subprocess.Popen([service], env={"SAFEMOUNT_SOCKET_FD": "3"}, stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(3,))
if theirs.fileno() != 3:
    os.close(3)
theirs.close()
ours.settimeout(20)
try:
    if mode == "not-root":
        send(ours, hello)
    elif mode == "garbage":
        send(ours, os.urandom(3) + b"\xee" * 37)
    elif mode == "truncated":
        send(ours, hello[:3])
    elif mode == "oversized":
        send(ours, msg(HELLO, b"\0" * 100000))
    elif mode == "hello-with-fds":
        send(ours, hello, [os.open("/dev/null", os.O_RDONLY) for _ in range(2)])
    else:
        send(ours, hello)
        ours.recv(100)
        dev = os.open(image, os.O_RDONLY)
        if mode == "request-two-fds":
            send(ours, request, [dev, os.open(image, os.O_RDONLY)])
        elif mode == "request-socket-fd":
            a, _ = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            send(ours, request, [a.fileno()])
        elif mode == "request-200-fds":
            send(ours, request, [dev] * 200)
        elif mode.startswith("direct-"):
            os.close(dev)
            dev = os.open(image, os.O_RDWR)
            send(ours, direct_request, [dev])
            if mode == "direct-unagreed":
                pass  # refused on the request itself: bit 1 was never agreed
            elif mode == "direct-no-fd":
                send(ours, msg(DIRECT_DEVICE))
            elif mode == "direct-two-fds":
                odirect = os.open(image, os.O_RDWR | os.O_DIRECT)
                send(ours, msg(DIRECT_DEVICE), [odirect, odirect])
            elif mode == "direct-not-odirect":
                send(ours, msg(DIRECT_DEVICE), [os.open(image, os.O_RDWR)])
            elif mode == "direct-other-file":
                other = tempfile.TemporaryFile(dir=os.path.dirname(image))
                other.truncate(size)
                send(ours, msg(DIRECT_DEVICE), [os.open("/proc/self/fd/%d" % other.fileno(), os.O_RDWR | os.O_DIRECT)])
            else:
                sys.exit("unknown mode " + mode)
        elif mode == "fuse-fd-devnull":
            send(ours, request, [dev])
            ours.recv(70000)
            send(ours, msg(FUSE_FD), [os.open("/dev/null", os.O_RDWR)])
        else:
            sys.exit("unknown mode " + mode)
    while True:
        data = ours.recv(70000)
        if not data:
            break
        tag = struct.unpack_from("<I", data)[0]
        if tag == ERROR:
            print("error-code=%d" % struct.unpack_from("<I", data, 8)[0])
except (OSError, socket.timeout) as e:
    print("helper-side=%s" % e)
try:
    _, err = proc.communicate(timeout=30)
except subprocess.TimeoutExpired:
    proc.kill()
    _, err = proc.communicate()
    print("service-timeout=yes")
print("service-exit=%d" % proc.returncode)
for line in err.decode(errors="replace").splitlines():
    print("log: " + line)
