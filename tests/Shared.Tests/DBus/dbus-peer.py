#!/usr/bin/python3
# A D-Bus peer for the D-Bus client tests, written from the D-Bus specification independently of
# src/Shared/DBus: it listens on a unix socket, accepts one connection, answers SASL (EXTERNAL,
# NEGOTIATE_UNIX_FD, BEGIN), then records every message it receives and answers it; then the
# next connection, until it is killed.
# Usage: dbus-peer.py SOCKET RECORD MODE
#   RECORD: one line per message: "<member> <fds> <fd-kinds> <hex of the whole message>"
#   MODE: "return-o" answers every call with an object path, "error" with an ERROR,
#         "signal-first" sends an unrelated signal before each "return-o" reply,
#         "garbage" answers with bytes that are not a D-Bus message, "silent" never answers,
#         "reject" refuses authentication.
# "Hello" (org.freedesktop.DBus) is always answered with the unique name ":1.42", "Ping"
# (org.freedesktop.DBus.Peer) with an empty return.
import os, socket, stat, struct, sys

path, record, mode = sys.argv[1], sys.argv[2], sys.argv[3]

def pad(b, n):
    return b + b"\0" * ((-len(b)) % n)

def string(b, v):
    b = pad(b, 4)
    e = v.encode()
    return b + struct.pack("<I", len(e)) + e + b"\0"

def signature(b, v):
    return b + bytes([len(v)]) + v.encode() + b"\0"

def field(b, code, sig, writer):
    b = pad(b, 8) + bytes([code])
    b = signature(b, sig)
    return writer(b)

def message(mtype, serial, fields, body_sig, body):
    head = b"l" + bytes([mtype, 0, 1]) + struct.pack("<II", len(body), serial)
    arr = b""
    for code, sig, writer in fields:
        # alignment inside the array counts from the message start (16 = after the length word)
        arr = field(b"\0" * 16 + arr, code, sig, writer)[16:]
    if body_sig:
        arr = field(b"\0" * 16 + arr, 8, "g", lambda b: signature(b, body_sig))[16:]
    return pad(head + struct.pack("<I", len(arr)) + arr, 8) + body

def reply_fields(reply_serial):
    return [(5, "u", lambda b: pad(b, 4) + struct.pack("<I", reply_serial))]

def read_exact(c, n, fds):
    data = b""
    while len(data) < n:
        msg, anc, flags, _ = c.recvmsg(n - len(data), socket.CMSG_SPACE(64 * 4))
        if not msg:
            raise EOFError
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.extend(struct.unpack("<%di" % (len(payload) // 4), payload[: len(payload) // 4 * 4]))
        data += msg
    return data

def parse_member(m):
    fields_len = struct.unpack_from("<I", m, 12)[0]
    pos, end, member = 16, 16 + fields_len, ""
    while pos < end:
        pos += (-pos) % 8
        code = m[pos]; sl = m[pos + 1]; sig = m[pos + 2: pos + 2 + sl].decode(); pos += 3 + sl
        if sig in ("s", "o"):
            pos += (-pos) % 4
            ln = struct.unpack_from("<I", m, pos)[0]
            val = m[pos + 4: pos + 4 + ln].decode(); pos += 5 + ln
            if code == 3:
                member = val
        elif sig == "g":
            ln = m[pos]; pos += 2 + ln
        elif sig == "u":
            pos += (-pos) % 4; pos += 4
        else:
            raise ValueError("unexpected header field signature " + sig)
    return member

def serve(c):
    c.settimeout(20)
    if c.recv(1) != b"\0":
        return
    line = b""
    while True:
        ch = c.recv(1)
        if not ch:
            return
        line += ch
        if not line.endswith(b"\r\n"):
            continue
        cmd, line = line[:-2].decode(), b""
        if cmd.startswith("AUTH EXTERNAL"):
            c.sendall(b"REJECTED EXTERNAL\r\n" if mode == "reject" else b"OK 0123456789abcdef0123456789abcdef\r\n")
        elif cmd.startswith("AUTH"):
            c.sendall(b"REJECTED EXTERNAL\r\n")
        elif cmd == "NEGOTIATE_UNIX_FD":
            c.sendall(b"AGREE_UNIX_FD\r\n")
        elif cmd == "BEGIN":
            break
        else:
            c.sendall(b"ERROR\r\n")

    serial = 100
    with open(record, "a") as rec:
        while True:
            fds = []
            try:
                first = read_exact(c, 16, fds)
            except (EOFError, ConnectionResetError, socket.timeout):
                return
            body_len, fields_len = struct.unpack_from("<I", first, 4)[0], struct.unpack_from("<I", first, 12)[0]
            total = 16 + fields_len + ((-(16 + fields_len)) % 8) + body_len
            m = first + read_exact(c, total - 16, fds)
            their_serial = struct.unpack_from("<I", m, 8)[0]
            member = parse_member(m)
            kinds = []
            for fd in fds:
                st = os.fstat(fd)
                kinds.append("socket" if stat.S_ISSOCK(st.st_mode) else "other")
                os.close(fd)
            rec.write("%s %d %s %s\n" % (member, len(fds), ",".join(kinds) or "-", m.hex()))
            rec.flush()
            serial += 1
            if member == "Hello":
                c.sendall(message(2, serial, reply_fields(their_serial), "s", string(b"", ":1.42")))
            elif member == "Ping":
                c.sendall(message(2, serial, reply_fields(their_serial), "", b""))
            elif mode == "silent":
                continue
            elif mode == "garbage":
                c.sendall(b"B\x02\x00\x07" + b"\xff" * 12)
            elif mode == "error":
                fields = reply_fields(their_serial) + [(4, "s", lambda b: string(b, "org.freedesktop.systemd1.UnitExists"))]
                c.sendall(message(3, serial, fields, "s", string(b"", "Unit x.service was already loaded")))
            else:
                if mode == "signal-first":
                    serial += 1
                    sig_fields = [(1, "o", lambda b: string(b, "/org/freedesktop/DBus")),
                                  (2, "s", lambda b: string(b, "org.freedesktop.DBus")),
                                  (3, "s", lambda b: string(b, "NameAcquired"))]
                    c.sendall(message(4, serial - 1, sig_fields, "s", string(b"", ":1.42")))
                c.sendall(message(2, serial, reply_fields(their_serial), "o", string(b"", "/org/freedesktop/systemd1/job/7")))

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path + ".tmp")
srv.listen(8)
os.rename(path + ".tmp", path)  # the socket appears only once it listens
while True:
    conn, _ = srv.accept()
    try:
        serve(conn)
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    finally:
        conn.close()
