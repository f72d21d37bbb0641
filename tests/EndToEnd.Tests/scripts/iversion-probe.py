#!/usr/bin/env python3
"""Metadata changes whose effect on i_version (l_i_version, i_version_hi) the kernel's ext4 makes
deterministically: new inodes start at 1; a directory gains 1 per entry added, removed or
pointed at another inode; setattr adds 1 (not for a truncate to the same size), an xattr or
ACL change that changes something 1, chattr 1; link, unlink and rename leave the inode itself
alone. Data writes are not probed (the kernel bumps i_version when a write moves the
coarse-clock mtime, which depends on timing). Prints every operation's result, then "path P"
for every node, whose i_version the caller compares between the two images (debugfs).

Usage: iversion-probe.py ROOT
"""
import ctypes
import errno
import fcntl
import os
import struct
import sys

AT_FDCWD = -100
FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]


def renameat2(src, dst, flags):
    if libc.renameat2(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def chattr_nodump(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        flags = struct.unpack_from("<i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(8)))[0]
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("<i", flags | 0x40))
    finally:
        os.close(fd)


def report(name, fn):
    try:
        fn()
        print("%s: OK" % name)
    except OSError as e:
        print("%s: %s" % (name, errno.errorcode.get(e.errno, e.errno)))


def main():
    mnt = sys.argv[1]
    root = os.path.join(mnt, "iv")
    j = lambda *n: os.path.join(root, *n)
    report("mkdir", lambda: (os.mkdir(root), os.mkdir(j("a")), os.mkdir(j("b")), os.mkdir(j("a", "sub"))))
    report("mkfifo", lambda: os.mkfifo(j("a", "fifo")))
    report("symlink", lambda: os.symlink("target", j("a", "sym")))
    report("create", lambda: os.close(os.open(j("a", "c"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)))
    report("create more", lambda: [os.close(os.open(j("a", n), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)) for n in ("d", "e", "f", "g")])
    report("touch", lambda: (os.close(os.open(j("a", "t"), os.O_WRONLY | os.O_CREAT, 0o644)), os.utime(j("a", "t"))))
    report("link", lambda: os.link(j("a", "c"), j("b", "c2")))
    report("unlink one name", lambda: os.unlink(j("b", "c2")))
    report("rename within", lambda: os.rename(j("a", "t"), j("a", "t2")))
    report("rename across", lambda: os.rename(j("a", "sym"), j("b", "sym")))
    report("rename over a target across", lambda: os.rename(j("a", "d"), j("b", "sym")))
    report("rename over a target within", lambda: os.rename(j("a", "e"), j("a", "fifo")))
    report("exchange across", lambda: renameat2(j("a", "f"), j("b", "sym"), 2))
    report("exchange within", lambda: renameat2(j("a", "f"), j("a", "t2"), 2))
    report("whiteout", lambda: renameat2(j("a", "g"), j("b", "g"), 4))
    report("move a directory", lambda: os.rename(j("a", "sub"), j("b", "sub")))
    report("chmod", lambda: os.chmod(j("a", "c"), 0o600))
    report("chown", lambda: os.chown(j("a", "c"), 5, 6))
    report("utime explicit", lambda: os.utime(j("a", "c"), ns=(10**18, 10**18)))
    report("utime now", lambda: os.utime(j("a", "c")))
    report("truncate up", lambda: os.truncate(j("a", "c"), 100))
    report("truncate to the same size", lambda: os.truncate(j("a", "c"), 100))
    report("setxattr", lambda: os.setxattr(j("a", "c"), "user.x", b"1"))
    report("setxattr the same value", lambda: os.setxattr(j("a", "c"), "user.x", b"1"))
    report("removexattr", lambda: os.removexattr(j("a", "c"), "user.x"))
    report("removexattr absent", lambda: os.removexattr(j("a", "c"), "user.x"))
    report("access acl", lambda: os.setxattr(j("a", "c"), "system.posix_acl_access",
                                             struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in
                                                                              [(1, 6, 0xFFFFFFFF), (2, 4, 77), (4, 4, 0xFFFFFFFF), (0x10, 4, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)])))
    report("chattr +d", lambda: chattr_nodump(j("a", "c")))
    report("chmod directory", lambda: os.chmod(j("b"), 0o700))
    report("rmdir", lambda: os.rmdir(j("b", "sub")))
    print("path /")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        print("path /" + os.path.relpath(dirpath, mnt))
        for n in sorted(filenames):
            print("path /" + os.path.relpath(os.path.join(dirpath, n), mnt))


if __name__ == "__main__":
    main()
