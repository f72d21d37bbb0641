#!/usr/bin/env python3
"""renameat2(RENAME_WHITEOUT) through a read-write mount (kernel: fs/ext4/namei.c
ext4_rename, ext4_whiteout_for_rename; fs/namei.c do_renameat2): the source name is left
naming a whiteout, a character device 0:0 with mode 0, owned as a new inode of the caller in
that directory. Each case prints "case: OK" or "case: ERRNO", then every node's stat fields and
xattrs. Run once on a kernel ext4 mount and once on a safe.ext4 mount of the same fresh image:
the outputs must be equal.

Usage: whiteout-probe.py ROOT
"""
import ctypes
import hashlib
import os
import stat
import struct
import sys

from probe_common import USER, as_user, report

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
RENAME_WHITEOUT = 4

libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]


def renameat2(src, dst, flags):
    if libc.renameat2(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


def acl(entries):
    """posix_acl_xattr: a_version 2, then (e_tag u16, e_perm u16, e_id u32) little-endian."""
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in entries)


def main():
    root = os.path.join(sys.argv[1], "whiteout")
    os.mkdir(root)
    j = lambda *n: os.path.join(root, *n)
    os.mkdir(j("a"))
    os.mkdir(j("b"))
    write_file(j("a", "file"), b"file\n")
    write_file(j("a", "victim-src"), b"src\n")
    write_file(j("b", "victim"), b"victim\n")
    write_file(j("a", "keep"), b"keep\n")
    write_file(j("b", "existing"), b"existing\n")
    os.mkdir(j("a", "dir"))
    write_file(j("a", "dir", "inside"), b"inside\n")
    os.mkdir(j("a", "dir2"))

    report("file to new name", lambda: renameat2(j("a", "file"), j("a", "file-moved"), RENAME_WHITEOUT))
    report("file over a target in another directory", lambda: renameat2(j("a", "victim-src"), j("b", "victim"), RENAME_WHITEOUT))
    report("directory to another parent", lambda: renameat2(j("a", "dir"), j("b", "dir"), RENAME_WHITEOUT))
    report("directory within its parent", lambda: renameat2(j("a", "dir2"), j("a", "dir3"), RENAME_WHITEOUT))
    report("noreplace onto an existing name", lambda: renameat2(j("a", "keep"), j("b", "existing"), RENAME_WHITEOUT | RENAME_NOREPLACE))
    report("noreplace to a new name", lambda: renameat2(j("a", "keep"), j("b", "keep"), RENAME_WHITEOUT | RENAME_NOREPLACE))
    report("exchange", lambda: renameat2(j("b", "keep"), j("b", "existing"), RENAME_WHITEOUT | RENAME_EXCHANGE))
    report("missing source", lambda: renameat2(j("a", "absent"), j("a", "x"), RENAME_WHITEOUT))
    report("onto a whiteout", lambda: renameat2(j("b", "keep"), j("a", "file"), RENAME_WHITEOUT))
    report("whiteout renamed with whiteout", lambda: renameat2(j("a", "victim-src"), j("a", "victim-src2"), RENAME_WHITEOUT))

    # A setgid directory with a default ACL: the whiteout is a new inode made there.
    os.mkdir(j("g"))
    os.chown(j("g"), 0, 4242)
    os.chmod(j("g"), 0o2775)
    os.setxattr(j("g"), "system.posix_acl_default",
                acl([(0x01, 7, 0xFFFFFFFF), (0x02, 5, 1234), (0x04, 5, 0xFFFFFFFF), (0x10, 7, 0xFFFFFFFF), (0x20, 1, 0xFFFFFFFF)]))
    write_file(j("g", "f"), b"g\n")
    report("in a setgid directory with a default ACL", lambda: renameat2(j("g", "f"), j("g", "f2"), RENAME_WHITEOUT))

    # Without CAP_MKNOD (the VFS refuses before the file system is asked).
    os.mkdir(j("u"))
    os.chmod(j("u"), 0o777)
    write_file(j("u", "f"), b"u\n")
    os.chown(j("u", "f"), USER, USER)
    report("as a user without CAP_MKNOD", lambda: as_user(lambda: renameat2(j("u", "f"), j("u", "g"), RENAME_WHITEOUT)))
    report("as a user, plain rename", lambda: as_user(lambda: renameat2(j("u", "f"), j("u", "g"), 0)))

    # A whiteout behaves as a character device: open fails, unlink works.
    report("open a whiteout", lambda: os.close(os.open(j("a", "dir2"), os.O_RDONLY)))
    report("unlink a whiteout", lambda: os.unlink(j("a", "dir2")))

    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            s = os.lstat(p)
            line = "%s mode=%o nlink=%d uid=%d gid=%d rdev=%d:%d size=%d xattrs=%s" % (
                os.path.relpath(p, root), s.st_mode, s.st_nlink, s.st_uid, s.st_gid,
                os.major(s.st_rdev), os.minor(s.st_rdev), s.st_size if not stat.S_ISDIR(s.st_mode) else 0,
                ",".join("%s=%s" % (x, os.getxattr(p, x, follow_symlinks=False).hex())
                         for x in sorted(os.listxattr(p, follow_symlinks=False))))
            if stat.S_ISREG(s.st_mode):
                with open(p, "rb") as f:
                    line += " sha256=" + hashlib.sha256(f.read()).hexdigest()[:16]
            if stat.S_ISDIR(s.st_mode):
                line += " entries=" + ",".join(sorted(os.listdir(p)))
            print(line)


if __name__ == "__main__":
    main()
