#!/usr/bin/env python3
"""Drives every write-side FUSE opcode through real syscalls on the mount given as argv[1].

One line per step, "<step> <outcome>", for KernelMountTests to compare. Steps run in order and
each depends only on the ones before; an unexpected exception ends the script with exit 1.
"""
import ctypes
import errno
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2
FALLOC_FL_ZERO_RANGE = 0x10


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def out(step, outcome):
    print(f"{step} {outcome}", flush=True)


def err(fn):
    """Runs fn; 'ok' or the errno name it failed with."""
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def check(rc):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def renameat2(old, new, flags):
    check(libc.renameat2(AT_FDCWD, old.encode(), AT_FDCWD, new.encode(), ctypes.c_uint(flags)))


def utimensat(path, atime, mtime):
    ts = (Timespec * 2)(Timespec(*atime), Timespec(*mtime))
    check(libc.utimensat(AT_FDCWD, path.encode(), ts, 0))


def fallocate(fd, mode, offset, length):
    check(libc.fallocate(fd, mode, ctypes.c_long(offset), ctypes.c_long(length)))


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


def main(mnt):
    os.umask(0o022)
    p = lambda *names: os.path.join(mnt, *names)

    # CREATE, WRITE (writeback at fsync), FSYNC; read back.
    fd = os.open(p("f"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
    data = b"abc" * 1000
    os.write(fd, data)
    os.fsync(fd)
    os.close(fd)
    out("create", f"{oct(os.stat(p('f')).st_mode)} {os.stat(p('f')).st_size}")
    out("readback", "same" if read_all(p("f")) == data else "DIFFERENT")

    # SETATTR size (truncate(2)), then a write past EOF that leaves a hole; LSEEK.
    os.truncate(p("f"), 100)
    out("truncate", os.stat(p("f")).st_size)
    fd = os.open(p("f"), os.O_RDWR)
    os.pwrite(fd, b"Z" * 4096, 8192)
    os.fdatasync(fd)
    out("hole", f"{os.stat(p('f')).st_size} {read_all(p('f'))[:100] == data[:100]} {read_all(p('f'))[4096:8192].count(0)}")
    out("seek", f"{os.lseek(fd, 0, os.SEEK_DATA)} {os.lseek(fd, 0, os.SEEK_HOLE)} {os.lseek(fd, 4096, os.SEEK_DATA)} {os.lseek(fd, 9000, os.SEEK_HOLE)}")
    out("seek-past-eof", err(lambda: os.lseek(fd, 20000, os.SEEK_DATA)))

    # FALLOCATE: default, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE, and a mode the file system refuses.
    fallocate(fd, 0, 12288, 4096)
    out("fallocate", os.stat(p("f")).st_size)
    fallocate(fd, FALLOC_FL_KEEP_SIZE, 16384, 4096)
    out("fallocate-keep-size", os.stat(p("f")).st_size)
    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 4096)
    out("punch", f"{os.stat(p('f')).st_size} {os.pread(fd, 4096, 8192).count(0)}")
    out("zero-range", err(lambda: fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 10)))

    # COPY_FILE_RANGE: 100 bytes of f to offset 0 of a new file.
    fd2 = os.open(p("copy"), os.O_CREAT | os.O_RDWR, 0o644)
    n = os.copy_file_range(fd, fd2, 100, 0, 0)
    os.close(fd2)
    out("copy_file_range", f"{n} {read_all(p('copy')) == data[:100]}")
    os.close(fd)

    # RENAME, RENAME2 NOREPLACE and EXCHANGE.
    os.rename(p("f"), p("g"))
    out("rename", f"{os.path.exists(p('f'))} {os.path.exists(p('g'))}")
    out("noreplace", err(lambda: renameat2(p("g"), p("hello"), RENAME_NOREPLACE)))
    renameat2(p("g"), p("copy"), RENAME_EXCHANGE)
    out("exchange", f"{os.stat(p('g')).st_size} {os.stat(p('copy')).st_size}")
    renameat2(p("copy"), p("copy2"), RENAME_NOREPLACE)
    out("noreplace-free", f"{os.path.exists(p('copy'))} {os.stat(p('copy2')).st_size}")
    os.rename(p("copy2"), p("copy"))

    # LINK, UNLINK.
    os.link(p("g"), p("hard"))
    out("link", os.stat(p("g")).st_nlink)
    os.unlink(p("hard"))
    out("unlink", f"{os.stat(p('g')).st_nlink} {os.path.exists(p('hard'))}")

    # MKDIR, rename across directories, RMDIR of a non-empty then an empty directory.
    os.mkdir(p("d"), 0o750)
    os.rename(p("g"), p("d", "g"))
    out("mkdir", f"{oct(os.stat(p('d')).st_mode)} {sorted(os.listdir(p('d')))}")
    out("rmdir-nonempty", err(lambda: os.rmdir(p("d"))))
    os.unlink(p("d", "g"))
    os.rmdir(p("d"))
    out("rmdir", os.path.exists(p("d")))

    # SYMLINK, MKNOD (FIFO).
    os.symlink("some/target", p("sl"))
    out("symlink", os.readlink(p("sl")))
    os.mkfifo(p("fifo"), 0o600)
    out("mkfifo", oct(os.lstat(p("fifo")).st_mode))

    # SETATTR: chmod, chown, utimensat with UTIME_NOW and UTIME_OMIT.
    os.chmod(p("copy"), 0o600)
    os.chown(p("copy"), 123, 456)
    st = os.stat(p("copy"))
    out("chmod-chown", f"{oct(st.st_mode)} {st.st_uid} {st.st_gid}")
    before = os.stat(p("copy")).st_mtime_ns
    utimensat(p("copy"), (0, UTIME_NOW), (0, UTIME_OMIT))
    st = os.stat(p("copy"))
    out("utime-now-omit", f"{st.st_atime_ns > 1_700_000_000 * 10**9} {st.st_mtime_ns == before}")
    utimensat(p("copy"), (0, UTIME_OMIT), (1_600_000_000, 5))
    out("utime-omit-set", os.stat(p("copy")).st_mtime_ns)

    # SETXATTR (plain, XATTR_CREATE on an existing name), REMOVEXATTR.
    os.setxattr(p("copy"), "user.k", b"v1")
    out("setxattr", os.getxattr(p("copy"), "user.k").decode())
    out("setxattr-create", err(lambda: os.setxattr(p("copy"), "user.k", b"v2", os.XATTR_CREATE)))
    os.removexattr(p("copy"), "user.k")
    out("removexattr", err(lambda: os.getxattr(p("copy"), "user.k")))

    # O_TMPFILE, written and then named with linkat through /proc/self/fd.
    fd = os.open(mnt, os.O_TMPFILE | os.O_RDWR, 0o600)
    os.write(fd, b"tmp")
    os.fsync(fd)
    check(libc.linkat(fd, b"", AT_FDCWD, p("named").encode(), AT_EMPTY_PATH))
    os.close(fd)
    out("tmpfile", read_all(p("named")).decode())

    # O_TRUNC reaches OPEN (FUSE_ATOMIC_O_TRUNC), not a separate SETATTR.
    os.close(os.open(p("named"), os.O_WRONLY | os.O_TRUNC))
    out("o_trunc", os.stat(p("named")).st_size)

    # FSYNCDIR.
    dfd = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(dfd)
    os.close(dfd)
    out("fsyncdir", "ok")

    out("ls", " ".join(sorted(os.listdir(mnt))))


if __name__ == "__main__":
    main(sys.argv[1])
