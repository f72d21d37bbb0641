#!/usr/bin/env python3
"""Deterministic changes made on top of a tree that journal-make-dirty.sh left in a dirty
journal, once that journal has been recovered: new files and directories, appends, overwrites
and truncates of replayed files, unlinks and renames of replayed names (also out of the
replayed htree directory tree/big), a symlink, a hard link, an xattr, chmod/chown, and explicit
times. Run on a kernel mount and on a safe.ext4 mount of two copies of one dirty image, it
must leave the same tree. Prints one line per step.

Usage: journal-more-writes.py ROOT
"""
import os
import random
import sys

root = sys.argv[1]
rng = random.Random(5)


def data(n):
    return rng.randbytes(n)


def write(path, content, offset=None):
    flags = os.O_WRONLY | (os.O_CREAT | os.O_EXCL if offset is None else 0)
    fd = os.open(path, flags, 0o644)
    try:
        os.pwrite(fd, content, offset or 0)
        os.fsync(fd)
    finally:
        os.close(fd)


def p(*parts):
    return os.path.join(root, *parts)


os.makedirs(p("after", "sub", "subsub"))
for i in range(20):
    write(p("after", "sub" if i % 2 else "", "new-%d" % i), data(1 + i * 9973))
print("created 20 files")
write(p("renamed-3"), data(10000), offset=os.path.getsize(p("renamed-3")))
write(p("renamed-4"), data(3000), offset=1000)
os.truncate(p("renamed-5"), 100)
print("append, overwrite, truncate of replayed files")
os.unlink(p("renamed-6"))
os.rename(p("renamed-7"), p("after", "moved-7"))
os.rename(p("tree", "files", "size-4096"), p("after", "size-4096-moved"))
os.unlink(p("late-25"))
print("unlinks and renames of replayed names")
big = p("tree", "big")
names = sorted(os.listdir(big))
for name in names[:40]:
    os.unlink(os.path.join(big, name))
for name in names[40:60]:
    os.rename(os.path.join(big, name), os.path.join(big, "renamed-" + name))
for i in range(30):
    write(os.path.join(big, "added-after-recovery-%03d" % i), data(i))
print("htree directory changed")
os.mkdir(p("after", "empty"))
os.symlink("../renamed-3", p("after", "link"))
os.link(p("renamed-8"), p("after", "hard"))
os.setxattr(p("renamed-9"), "user.after", b"recovered and extended")
os.chmod(p("renamed-9"), 0o600)
os.chown(p("renamed-10"), 1234, 5678)
for i in range(20):
    os.utime(p("after", "sub" if i % 2 else "", "new-%d" % i), ns=(1_000_000_000_123_456_789 + i, 1_100_000_000_987_654_321 - i))
os.utime(p("renamed-3"), ns=(1_200_000_000_000_000_001, 1_200_000_000_000_000_002))
print("links, xattr, modes, owners, times")
os.sync()
