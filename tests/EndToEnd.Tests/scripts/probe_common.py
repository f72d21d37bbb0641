"""Shared by the rw-probe.sh probes (protect-probe.py, whiteout-probe.py): one line per operation
("NAME: OK" or "NAME: ERRNO"), the same on a kernel and a safe.ext4 mount, and running an
operation as an unprivileged user."""

import errno
import os
import struct

# The unprivileged uid/gid the probes act as (no capabilities).
USER = 1000


def report(name, fn):
    try:
        fn()
        print("%s: OK" % name)
    except OSError as e:
        print("%s: %s" % (name, errno.errorcode.get(e.errno, e.errno)))


def as_user(fn):
    """Runs FN in a child with uid/gid USER and no supplementary groups (so no capabilities); raises its errno here."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            os.setgroups([])
            os.setgid(USER)
            os.setuid(USER)
            fn()
        except OSError as e:
            code = e.errno
        os.write(w, struct.pack("<i", code))
        os._exit(0)
    os.close(w)
    code = struct.unpack("<i", os.read(r, 4))[0]
    os.close(r)
    os.waitpid(pid, 0)
    if code:
        raise OSError(code, os.strerror(code))
