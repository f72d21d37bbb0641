#!/usr/bin/env python3
"""Prints, for each PATH under ROOT (a regular file or directory), the project id, fsxattr
xflags and inode flags the mount reports through FS_IOC_FSGETXATTR and FS_IOC_GETFLAGS.

Usage: fileattr-probe.py ROOT PATH...
"""
import fcntl
import os
import struct
import sys

FS_IOC_GETFLAGS = 0x80086601
FS_IOC_FSGETXATTR = 0x801C581F


def main():
    root = sys.argv[1]
    for rel in sys.argv[2:]:
        fd = os.open(os.path.join(root, rel), os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            flags = struct.unpack_from("<I", fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(8)))[0]
            xflags, _, _, projid, _ = struct.unpack_from("<5I", fcntl.ioctl(fd, FS_IOC_FSGETXATTR, bytes(28)))
        finally:
            os.close(fd)
        print("%s projid=%d xflags=%x flags=%08x" % (rel, projid, xflags, flags))


if __name__ == "__main__":
    main()
