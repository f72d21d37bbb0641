#!/usr/bin/env python3
"""Immutable and append-only inodes (chattr +i, +a) through a read-write mount: every operation
the kernel's VFS refuses on them (fs/namei.c may_open, may_create, may_delete, vfs_link,
vfs_rename; fs/attr.c notify_change; fs/open.c truncate; fs/xattr.c xattr_permission;
vfs_fallocate; ext4_ioctl_check_immutable), and the ones it still allows, each printed as
"case: OK" or "case: ERRNO", then the resulting tree. Run once on a kernel ext4 mount and once
on a safe.ext4 mount of the same fresh image: the outputs must be equal.

Not probed (they differ under FUSE by design, see README "Read-write"): write(2) through a file
descriptor opened before +i was set, and clearing O_APPEND with fcntl on an append-only file
(the kernel's FUSE layer does not know the inode's flags, so such writes land in the page
cache and fail at writeback).

Usage: protect-probe.py ROOT
"""
import ctypes
import fcntl
import hashlib
import os
import stat
import struct
import sys

from probe_common import USER, as_user, report

FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x10
FS_APPEND_FL = 0x20
FS_NODUMP_FL = 0x40
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]


def get_flags(path):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    try:
        return struct.unpack_from("<i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(8)))[0]
    finally:
        os.close(fd)


def set_flags(path, flags):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    try:
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("<i", flags))
    finally:
        os.close(fd)


def chattr(path, add=0, remove=0):
    set_flags(path, (get_flags(path) | add) & ~remove)


def fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def write_file(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def open_close(path, flags):
    os.close(os.open(path, flags, 0o644))


def with_fd(path, flags, fn):
    def run():
        fd = os.open(path, flags)
        try:
            fn(fd)
        finally:
            os.close(fd)
    return run


def probe_file(root, name, flag):
    """One regular file with FLAG set, and every operation on it."""
    p = os.path.join(root, name)
    other = os.path.join(root, name + ".other")
    write_file(p, b"hello\n")
    write_file(other, b"other\n")
    os.setxattr(p, "user.present", b"1")
    chattr(p, add=flag)
    print("%s flags: %08x" % (name, get_flags(p)))
    report(name + " open rdonly", lambda: open_close(p, os.O_RDONLY))
    report(name + " open wronly", lambda: open_close(p, os.O_WRONLY))
    report(name + " open rdwr", lambda: open_close(p, os.O_RDWR))
    report(name + " open rdonly|trunc", lambda: open_close(p, os.O_RDONLY | os.O_TRUNC))
    report(name + " open wronly|append|trunc", lambda: open_close(p, os.O_WRONLY | os.O_APPEND | os.O_TRUNC))
    report(name + " append write", with_fd(p, os.O_WRONLY | os.O_APPEND, lambda fd: (os.write(fd, b"more\n"), os.fsync(fd))))
    report(name + " append pwrite at 0", with_fd(p, os.O_RDWR | os.O_APPEND, lambda fd: (os.pwrite(fd, b"X", 0), os.fsync(fd))))
    report(name + " append fallocate", with_fd(p, os.O_WRONLY | os.O_APPEND, lambda fd: fallocate(fd, 0, 0, 8192)))
    report(name + " append fallocate keep-size", with_fd(p, os.O_WRONLY | os.O_APPEND, lambda fd: fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 16384)))
    report(name + " append punch", with_fd(p, os.O_WRONLY | os.O_APPEND, lambda fd: fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096)))
    report(name + " append zero-range", with_fd(p, os.O_WRONLY | os.O_APPEND, lambda fd: fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096)))
    report(name + " append ftruncate", with_fd(p, os.O_WRONLY | os.O_APPEND, lambda fd: os.ftruncate(fd, 100000)))
    report(name + " truncate", lambda: os.truncate(p, 0))
    report(name + " truncate up", lambda: os.truncate(p, 1 << 20))
    report(name + " chmod", lambda: os.chmod(p, 0o600))
    report(name + " chown", lambda: os.chown(p, USER, USER))
    report(name + " utime explicit", lambda: os.utime(p, ns=(10**18, 10**18)))
    report(name + " utime now", lambda: os.utime(p))
    report(name + " setxattr", lambda: os.setxattr(p, "user.new", b"x"))
    report(name + " removexattr present", lambda: os.removexattr(p, "user.present"))
    report(name + " removexattr absent", lambda: os.removexattr(p, "user.absent"))
    report(name + " setxattr trusted", lambda: os.setxattr(p, "trusted.t", b"x"))
    report(name + " link", lambda: os.link(p, p + ".link"))
    report(name + " rename away", lambda: os.rename(p, p + ".moved"))
    report(name + " rename over it", lambda: os.rename(other, p))
    report(name + " unlink", lambda: os.unlink(p))
    report(name + " chattr +d while kept", lambda: chattr(p, add=FS_NODUMP_FL))
    print("%s flags: %08x" % (name, get_flags(p) if os.path.exists(p) else -1))
    report(name + " chattr -flag +d", lambda: chattr(p, add=FS_NODUMP_FL, remove=flag))
    report(name + " open rdwr after", lambda: open_close(p, os.O_RDWR))
    report(name + " unlink after", lambda: os.unlink(p + ".other") if os.path.exists(p + ".other") else None)


def probe_dir(root, name, flag):
    """One directory with FLAG set (holding a file, a subdirectory and an immutable-free file),
    and every namespace operation in and on it."""
    d = os.path.join(root, name)
    outside = os.path.join(root, name + ".outside")
    os.mkdir(d)
    os.mkdir(os.path.join(d, "sub"))
    os.mkdir(os.path.join(d, "sub2"))
    write_file(os.path.join(d, "inner"), b"inner\n")
    write_file(os.path.join(d, "inner2"), b"inner2\n")
    write_file(outside, b"outside\n")
    os.mkdir(outside + "-dir")
    chattr(d, add=flag)
    print("%s flags: %08x" % (name, get_flags(d)))
    j = lambda n: os.path.join(d, n)
    report(name + " create", lambda: open_close(j("new"), os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    report(name + " mkdir", lambda: os.mkdir(j("newdir")))
    report(name + " mknod fifo", lambda: os.mkfifo(j("fifo")))
    report(name + " mknod chr", lambda: os.mknod(j("chr"), stat.S_IFCHR | 0o600, os.makedev(1, 3)))
    report(name + " symlink", lambda: os.symlink("target", j("sym")))
    report(name + " link in", lambda: os.link(outside, j("linked")))
    report(name + " tmpfile", lambda: os.close(os.open(d, os.O_TMPFILE | os.O_WRONLY, 0o600)))
    report(name + " rename in", lambda: os.rename(outside, j("moved-in")))
    report(name + " rename dir in", lambda: os.rename(outside + "-dir", j("moved-dir-in")))
    report(name + " rename inner out", lambda: os.rename(j("inner"), os.path.join(root, name + ".inner-out")))
    report(name + " rename sub out", lambda: os.rename(j("sub"), os.path.join(root, name + ".sub-out")))
    report(name + " rename within", lambda: os.rename(j("inner"), j("inner-renamed")))
    report(name + " rename over inner", lambda: os.rename(j("inner2"), j("inner")))
    report(name + " unlink inner", lambda: os.unlink(j("inner")))
    report(name + " rmdir sub", lambda: os.rmdir(j("sub")))
    report(name + " open inner rdwr", lambda: open_close(j("inner"), os.O_RDWR))
    report(name + " write inner", with_fd(j("inner"), os.O_WRONLY, lambda fd: (os.pwrite(fd, b"INNER", 0), os.fsync(fd))))
    report(name + " chmod dir", lambda: os.chmod(d, 0o700))
    report(name + " utime dir now", lambda: os.utime(d))
    report(name + " setxattr dir", lambda: os.setxattr(d, "user.d", b"1"))
    report(name + " mkdir in sub", lambda: os.mkdir(os.path.join(d, "sub", "deeper")))
    report(name + " rename dir away", lambda: os.rename(d, d + ".renamed"))
    report(name + " move dir to sub", lambda: os.rename(d, os.path.join(root, name + ".outside-dir-2")))
    chattr(d, remove=flag)
    report(name + " create after", lambda: open_close(j("after"), os.O_WRONLY | os.O_CREAT | os.O_EXCL))


def probe_capability(root):
    """Setting or clearing +i/+a needs CAP_LINUX_IMMUTABLE; the owner may change other flags."""
    p = os.path.join(root, "owned")
    write_file(p, b"owned\n")
    os.chown(p, USER, USER)
    report("user chattr +i", lambda: as_user(lambda: chattr(p, add=FS_IMMUTABLE_FL)))
    report("user chattr +a", lambda: as_user(lambda: chattr(p, add=FS_APPEND_FL)))
    report("user chattr +d", lambda: as_user(lambda: chattr(p, add=FS_NODUMP_FL)))
    chattr(p, add=FS_APPEND_FL)
    report("user chattr -a", lambda: as_user(lambda: chattr(p, remove=FS_APPEND_FL)))
    report("user append write", lambda: as_user(with_fd(p, os.O_WRONLY | os.O_APPEND, lambda fd: (os.write(fd, b"user\n"), os.fsync(fd)))))
    report("user chattr -d while append", lambda: as_user(lambda: chattr(p, remove=FS_NODUMP_FL)))
    print("owned flags: %08x" % get_flags(p))
    chattr(p, remove=FS_APPEND_FL)


def dump(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            s = os.lstat(p)
            line = "%s mode=%o nlink=%d uid=%d size=%d flags=%08x xattrs=%s" % (
                os.path.relpath(p, root), s.st_mode, s.st_nlink, s.st_uid,
                s.st_size if not stat.S_ISDIR(s.st_mode) else 0,
                get_flags(p) if stat.S_ISREG(s.st_mode) or stat.S_ISDIR(s.st_mode) else 0,
                ",".join(sorted(os.listxattr(p, follow_symlinks=False))))
            if stat.S_ISREG(s.st_mode):
                with open(p, "rb") as f:
                    line += " sha256=" + hashlib.sha256(f.read()).hexdigest()[:16]
            print(line)


def main():
    root = os.path.join(sys.argv[1], "protect")
    os.mkdir(root)
    probe_file(root, "immutable", FS_IMMUTABLE_FL)
    probe_file(root, "append", FS_APPEND_FL)
    probe_file(root, "both", FS_IMMUTABLE_FL | FS_APPEND_FL)
    probe_dir(root, "immutable-dir", FS_IMMUTABLE_FL)
    probe_dir(root, "append-dir", FS_APPEND_FL)
    probe_capability(root)
    dump(root)


if __name__ == "__main__":
    main()
