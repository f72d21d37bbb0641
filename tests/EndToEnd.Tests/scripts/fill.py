#!/usr/bin/env python3
"""Fills the file system at DIR to ENOSPC with 1 MiB writes into several files, checks that
ENOSPC (not another error) ends it and that statfs then shows no available blocks, deletes
everything it wrote, and prints statfs before, when full and after. The caller compares the
"before" and "after" lines and runs e2fsck.

Usage: fill.py DIR
"""
import errno
import os
import sys


def statfs(path):
    s = os.statvfs(path)
    return "bfree=%d bavail=%d ffree=%d" % (s.f_bfree, s.f_bavail, s.f_ffree)


def main():
    root = sys.argv[1]
    d = os.path.join(root, "fill")
    before = statfs(root)
    os.mkdir(d)
    chunk = b"\xa5" * (1 << 20)
    written = 0
    n = 0
    full = False
    while not full:
        path = os.path.join(d, "f%d" % n)
        n += 1
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError as e:
            if e.errno == errno.ENOSPC:
                break
            raise
        try:
            for _ in range(64):
                try:
                    k = os.write(fd, chunk)
                    written += k
                    if k < len(chunk):
                        full = True
                        break
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    full = True
                    break
            try:
                os.fsync(fd)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                full = True
        finally:
            os.close(fd)
    s = os.statvfs(root)
    at_full = statfs(root)
    if s.f_bavail != 0:
        sys.exit("ENOSPC with %d blocks still available: %s" % (s.f_bavail, at_full))
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)
    os.sync()
    print("before %s" % before)
    print("full %s written=%d files=%d" % (at_full, written, n))
    print("after %s" % statfs(root))


if __name__ == "__main__":
    main()
