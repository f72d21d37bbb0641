#!/usr/bin/env python3
"""Prints one canonical line per path under ROOT, for comparing a kernel ext4 mount with a
safe.ext4 mount of the same image: lstat fields (mode, ino, nlink, uid, gid, rdev, size,
blocks, blksize, atime/mtime/ctime in ns, btime in ns via statx), a content hash, the symlink
target, every xattr (name and hex value), the sorted readdir set of each directory, and for
regular files and directories the inode flags (FS_IOC_GETFLAGS), the fsxattr xflags and
project id (FS_IOC_FSGETXATTR) and the generation (FS_IOC_GETVERSION, as lsattr -v).

Usage: treedump.py ROOT [--no-atime] [--sparse-hash]

--sparse-hash replaces the sha256 of a file's bytes by sparse_hash (below): the same bytes give
the same value on every mount, and holes are skipped without being read, so a tree with files of
a few GiB apparent size can be dumped many times (it trusts SEEK_DATA: on a live mount, sync
first, as the kernel's ext4 misses not yet written-back data of block-mapped files). It also reads the content, inode flags and
xattrs of a regular file with several names once per inode (they belong to the inode, not the
name), which makes directories of thousands of hard links cheap to dump.
"""
import ctypes
import errno
import fcntl
import hashlib
import os
import struct
import stat
import subprocess
import sys

AT_SYMLINK_NOFOLLOW = 0x100
STATX_ALL = 0xFFF  # STATX_BASIC_STATS | STATX_BTIME


class StatxTimestamp(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_int64), ("tv_nsec", ctypes.c_uint32), ("pad", ctypes.c_int32)]


class Statx(ctypes.Structure):
    _fields_ = [
        ("stx_mask", ctypes.c_uint32), ("stx_blksize", ctypes.c_uint32),
        ("stx_attributes", ctypes.c_uint64), ("stx_nlink", ctypes.c_uint32),
        ("stx_uid", ctypes.c_uint32), ("stx_gid", ctypes.c_uint32),
        ("stx_mode", ctypes.c_uint16), ("pad1", ctypes.c_uint16),
        ("stx_ino", ctypes.c_uint64), ("stx_size", ctypes.c_uint64),
        ("stx_blocks", ctypes.c_uint64), ("stx_attributes_mask", ctypes.c_uint64),
        ("stx_atime", StatxTimestamp), ("stx_btime", StatxTimestamp),
        ("stx_ctime", StatxTimestamp), ("stx_mtime", StatxTimestamp),
        ("stx_rdev_major", ctypes.c_uint32), ("stx_rdev_minor", ctypes.c_uint32),
        ("stx_dev_major", ctypes.c_uint32), ("stx_dev_minor", ctypes.c_uint32),
        ("spare", ctypes.c_uint64 * 14),
    ]


FS_IOC_GETFLAGS = 0x80086601     # _IOR('f', 1, long)
FS_IOC_FSGETXATTR = 0x801C581F   # _IOR('X', 31, struct fsxattr), 28 bytes
FS_IOC_GETVERSION = 0x80087601   # _IOR('v', 1, long); ext4 writes one int

libc = ctypes.CDLL(None, use_errno=True)
libc.statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(Statx)]


def statx(path):
    buf = Statx()
    if libc.statx(-100, os.fsencode(path), AT_SYMLINK_NOFOLLOW, STATX_ALL, ctypes.byref(buf)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return buf


def ns(ts):
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec


# sha256 per inode number: a file with many hard links is read once per dump (every name of
# it reaches the same inode, on both mounts).
_hash_by_ino = {}


def content_hash(path, ino=None):
    if ino is not None and ino in _hash_by_ino:
        return _hash_by_ino[ino]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    digest = h.hexdigest()
    if ino is not None:
        _hash_by_ino[ino] = digest
    return digest


# --sparse-hash: the fields after the lstat ones, per inode number of a file with several names.
_inode_fields = {}

CHUNK = 1 << 20
ZERO_CHUNK = bytes(CHUNK)


def sparse_hash(path):
    """sha256 of the size and of (index, sha256) of every 1 MiB chunk that is not all zeroes: a
    function of the bytes alone (a hole, an unwritten extent and written zeroes hash alike);
    SEEK_DATA/SEEK_HOLE only decide which chunks are read."""
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        h.update(b"size=%d;" % size)
        off = 0
        while off < size:
            try:
                data = os.lseek(fd, off, os.SEEK_DATA)
                hole = os.lseek(fd, data, os.SEEK_HOLE)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    break  # no data at or after off
                if e.errno != errno.EINVAL:
                    raise
                data, hole = off, size  # no SEEK_DATA: read everything
            first = data // CHUNK
            end = min(size, -(-hole // CHUNK) * CHUNK)
            for index in range(first, -(-end // CHUNK)):
                chunk = os.pread(fd, CHUNK, index * CHUNK)
                if chunk != ZERO_CHUNK[:len(chunk)]:
                    h.update(b"%d:%s;" % (index, hashlib.sha256(chunk).hexdigest().encode()))
            off = max(end, off + 1)
    return h.hexdigest()


def xattrs(path):
    out = []
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        return ["listxattr-error:%d" % e.errno]
    for n in sorted(names):
        try:
            v = os.getxattr(path, n, follow_symlinks=False)
            out.append("%s=%s" % (n, v.hex()))
        except OSError as e:
            out.append("%s=error:%d" % (n, e.errno))
    return out


def file_attributes(path, is_dir):
    """flags=, xflags=, extsize=, nextents=, projid= as the kernel's fileattr_get reports them, and generation=."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_DIRECTORY if is_dir else 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        return ["fileattr=open-error:%d" % e.errno]
    out = []
    try:
        try:
            buf = fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(8))
            out.append("flags=%08x" % struct.unpack_from("<I", buf)[0])
        except OSError as e:
            out.append("flags=error:%d" % e.errno)
        try:
            buf = fcntl.ioctl(fd, FS_IOC_FSGETXATTR, bytes(28))
            xflags, extsize, nextents, projid, cowextsize = struct.unpack_from("<5I", buf)
            out.append("xflags=%x extsize=%d nextents=%d projid=%d cowextsize=%d" % (xflags, extsize, nextents, projid, cowextsize))
        except OSError as e:
            out.append("fsxattr=error:%d" % e.errno)
        try:
            buf = fcntl.ioctl(fd, FS_IOC_GETVERSION, bytes(8))
            out.append("generation=%d" % struct.unpack_from("<I", buf)[0])
        except OSError as e:
            out.append("generation=error:%d" % e.errno)
    finally:
        os.close(fd)
    return out


def describe(root, rel, with_atime, sparse=False):
    path = os.path.join(root, rel) if rel else root
    s = statx(path)
    mode = s.stx_mode
    fields = [
        "path=" + (rel or "."),
        "mode=%o" % mode, "ino=%d" % s.stx_ino, "nlink=%d" % s.stx_nlink,
        "uid=%d" % s.stx_uid, "gid=%d" % s.stx_gid,
        "rdev=%d:%d" % (s.stx_rdev_major, s.stx_rdev_minor),
        "size=%d" % s.stx_size, "blocks=%d" % s.stx_blocks, "blksize=%d" % s.stx_blksize,
        "mtime=%d" % ns(s.stx_mtime), "ctime=%d" % ns(s.stx_ctime),
        "btime=%s" % (str(ns(s.stx_btime)) if s.stx_mask & 0x800 else "none"),
    ]
    if with_atime:
        fields.append("atime=%d" % ns(s.stx_atime))
    if sparse and stat.S_ISREG(mode) and s.stx_nlink > 1 and s.stx_ino in _inode_fields:
        return " ".join(fields + _inode_fields[s.stx_ino])
    rest = []
    if stat.S_ISREG(mode):
        if sparse:
            rest.append("sparse-sha256=" + sparse_hash(path))
        else:
            rest.append("sha256=" + content_hash(path, s.stx_ino if s.stx_nlink > 1 else None))
    elif stat.S_ISLNK(mode):
        rest.append("target=" + os.fsencode(os.readlink(path)).hex())
    elif stat.S_ISDIR(mode):
        names = os.listdir(path)
        rest.append("entries=%d" % len(names))
        listing = sorted(os.fsencode(n).hex() for n in names)
        rest.append("readdir=" + hashlib.sha256(",".join(listing).encode()).hexdigest())
        # "." and ".." as readdir(3) returns them, with their d_ino (os.listdir hides them).
        dots = subprocess.run(["ls", "-1aiU", path], check=True, capture_output=True).stdout.split(b"\n")
        rest.append("dots=" + ",".join(sorted(l.strip().decode() for l in dots if l.strip().split(b" ", 1)[-1] in (b".", b".."))))
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        rest.extend(file_attributes(path, stat.S_ISDIR(mode)))
    rest.extend("xattr:" + x for x in xattrs(path))
    if sparse and stat.S_ISREG(mode) and s.stx_nlink > 1:
        _inode_fields[s.stx_ino] = rest
    return " ".join(fields + rest)


def main():
    root = sys.argv[1]
    with_atime = "--no-atime" not in sys.argv
    sparse = "--sparse-hash" in sys.argv
    print(describe(root, "", with_atime, sparse))
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            print(describe(root, rel, with_atime, sparse))


if __name__ == "__main__":
    main()
