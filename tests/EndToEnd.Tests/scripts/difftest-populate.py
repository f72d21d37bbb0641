#!/usr/bin/env python3
"""Seeded random workload for the differential tester (DifferentialTests.cs).

The kernel is the reference writer: this script runs, as root, against a directory on a kernel
ext4 loop mount and performs a random but reproducible sequence of the operations whose on-disk
results safe.ext4 has to read back exactly: nested directories, files of every size class
(empty, inline-data candidates, around block boundaries, multi-MiB), sparse files of a few GiB
apparent size, appends, truncates, fallocate in every mode (unwritten extents, written into
afterwards), hard links, fast/slow/dangling symlinks, device nodes, fifos, sockets, xattrs in
the user/trusted/security namespaces (in-inode, in a block, shared blocks), POSIX ACLs, mode
bits including suid/sgid/sticky, 32-bit uids/gids, nanosecond times before 1970 and after 2038,
renames, deletions, and big directories with long non-ASCII names that grow (and split) htrees
and then lose most of their entries.

Everything is drawn from random.Random(seed); operations the kernel refuses for the layout
(EOPNOTSUPP for fallocate modes without extents, ENOSPC for a full xattr block, ...) are counted
and skipped, so the same seed on the same kernel performs the same sequence.

Usage:
  difftest-populate.py layout SEED        print the seed's image layout as JSON:
                                          {"name", "size", "mkfs": [args], "tune2fs": [args]}
  difftest-populate.py layouts            print every layout name, in seed order
  difftest-populate.py populate DIR SEED [-v]
                                          populate DIR (on a kernel ext4 mount of that layout);
                                          -v prints every operation
  difftest-populate.py lockstep KDIR SDIR LINKROOT SEED BATCHES OUTDIR
                                          run the seed's workload on KDIR (the kernel's mount)
                                          and SDIR (safe.ext4's) in BATCHES batches of steps;
                                          after each batch both trees are dumped (treedump.py)
                                          to OUTDIR/batch-NN-kernel.txt and -safe.txt; absolute
                                          symlink targets into the mount name LINKROOT on both;
                                          summaries go to OUTDIR/populate-{kernel,safe}.txt and
                                          the batch that ended each side to OUTDIR/batches.txt
"""
import ctypes
import errno
import json
import os
import random
import socket
import stat
import struct
import subprocess
import sys
from collections import Counter

# (name, image size, mkfs.ext4 arguments, tune2fs arguments). The layout of seed S is
# LAYOUTS[S % len(LAYOUTS)], so seeds 0..len-1 cover every layout once. Every entry names its
# block size: images under 512 MiB are mke2fs.conf's "small" type, which would default to 1 KiB.
LAYOUTS = [
    ("ext4-4k", "192M", ["-t", "ext4", "-b", "4096"], []),
    ("ext4-1k-128", "96M", ["-t", "ext4", "-b", "1024", "-I", "128"], []),
    ("ext4-nocsum-32bit", "128M", ["-t", "ext4", "-b", "4096", "-O", "^metadata_csum,^64bit,uninit_bg"], []),
    ("ext3-1k", "96M", ["-t", "ext3", "-b", "1024"], []),
    ("ext2-4k", "128M", ["-t", "ext2", "-b", "4096"], []),
    ("ext4-inline", "128M", ["-t", "ext4", "-b", "4096", "-O", "inline_data"], []),
    ("ext4-bigalloc-16k", "256M", ["-t", "ext4", "-b", "4096", "-O", "bigalloc", "-C", "16384"], []),
    ("ext4-meta-bg-1k", "128M", ["-t", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode"], []),
    ("ext4-tea-noflex", "128M", ["-t", "ext4", "-b", "4096", "-O", "^flex_bg"], ["-E", "hash_alg=tea"]),
    ("ext4-blockmap-nojournal", "128M", ["-t", "ext4", "-b", "4096", "-O", "^has_journal,^extent,^64bit"], []),
    ("ext4-2k-512-linear", "128M", ["-t", "ext4", "-b", "2048", "-I", "512", "-O", "^dir_index"], []),
    ("ext4-inline-1k-1kino", "128M", ["-t", "ext4", "-b", "1024", "-I", "1024", "-O", "inline_data,large_dir,orphan_file"], []),
]

# fallocate(2) modes (linux/falloc.h).
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10

# Errors the kernel legitimately answers for a layout or a full filesystem; the operation is
# skipped (and counted). Anything else is a failure of the workload itself.
EXPECTED_ERRNOS = {errno.ENOSPC, errno.EOPNOTSUPP, errno.E2BIG, errno.EFBIG, errno.EMLINK,
                   errno.ENAMETOOLONG, errno.EDQUOT, errno.ERANGE}

MAX_DEPTH = 8
MiB = 1 << 20
GiB = 1 << 30

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
libc.fallocate.restype = ctypes.c_int


def fallocate(fd, mode, offset, length):
    if libc.fallocate(fd, mode, offset, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def syncfs(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if libc.syncfs(fd) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e), path)
    finally:
        os.close(fd)


def parse_size(s):
    units = {"K": 1 << 10, "M": MiB, "G": GiB}
    return int(s[:-1]) * units[s[-1]] if s[-1] in units else int(s)


class Workload:
    """The model of the tree the script has built: every path (bytes, relative to the root) with
    its kind: 'd' directory, 'f' regular file, 'l' symlink, 'n' device/fifo/socket."""

    def __init__(self, root, seed, verbose, link_root=None):
        self.root = os.fsencode(root)
        # Where absolute symlink targets into the mount point: the mount point itself, or one
        # name shared by two mounts written in lockstep (their targets must be equal strings).
        self.link_root = os.fsencode(link_root) if link_root is not None else self.root
        self.seed = seed
        self.rng = random.Random(seed)
        self.verbose = verbose
        layout = LAYOUTS[seed % len(LAYOUTS)]
        self.layout = layout[0]
        args = layout[2]
        self.block_size = int(args[args.index("-b") + 1])
        self.extents = not (layout[0].startswith("ext2") or layout[0].startswith("ext3") or "^extent" in " ".join(args))
        self.inode_size = int(args[args.index("-I") + 1]) if "-I" in args else 256
        # Bytes of file data the workload may write: a fraction of the image, so it never fills
        # up (ENOSPC is tolerated but would make the rest of the sequence less interesting).
        self.budget = parse_size(layout[1]) * 35 // 100
        self.huge_left = 1 if self.rng.random() < 0.4 else 0
        self.nodes = {b"": "d"}
        self.counter = 0
        self.done = Counter()
        self.skipped = Counter()

    # ----- model helpers -------------------------------------------------------------------

    def p(self, rel):
        return os.path.join(self.root, rel) if rel else self.root

    def of_kind(self, kind):
        return sorted(k for k, v in self.nodes.items() if v == kind)

    def pick(self, kind):
        items = self.of_kind(kind)
        return self.rng.choice(items) if items else None

    @staticmethod
    def depth(rel):
        return 0 if not rel else rel.count(b"/") + 1

    def pick_dir(self, max_depth=MAX_DEPTH - 1):
        dirs = [d for d in self.of_kind("d") if self.depth(d) <= max_depth]
        return self.rng.choice(dirs)

    def random_name(self, max_len=255):
        r = self.rng.random()
        self.counter += 1
        if r < 0.6:
            return b"n%d" % self.counter
        if r < 0.8:
            # printable, random length
            n = self.rng.randint(1, max_len)
            s = bytes(self.rng.choice(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,+= ") for _ in range(n))
        else:
            # any byte but NUL and '/', high-bit bytes included (not valid UTF-8 on purpose)
            n = self.rng.randint(1, max_len)
            s = bytes(self.rng.choice([b for b in range(1, 256) if b != 0x2F]) for _ in range(n))
        if s in (b".", b".."):
            s = b"dot%d" % self.counter
        return s

    def new_path(self, parent, max_len=255):
        for _ in range(20):
            rel = os.path.join(parent, self.random_name(max_len)) if parent else self.random_name(max_len)
            if rel not in self.nodes:
                return rel
        return os.path.join(parent, b"u%d" % self.counter) if parent else b"u%d" % self.counter

    def forget(self, rel):
        """Drops REL (and, for a directory, everything under it) from the model."""
        prefix = rel + b"/"
        for k in [k for k in self.nodes if k == rel or k.startswith(prefix)]:
            del self.nodes[k]

    def data(self, n):
        n = max(0, min(n, self.budget))
        self.budget -= n
        return self.rng.randbytes(n)

    def log(self, *a):
        if self.verbose:
            print(*a, flush=True)

    # ----- operations ----------------------------------------------------------------------

    def op_mkdir(self):
        parent = self.pick_dir(MAX_DEPTH - 1)
        rel = self.new_path(parent)
        os.mkdir(self.p(rel), self.rng.choice([0o755, 0o700, 0o777, 0o1777, 0o2755]))
        self.nodes[rel] = "d"
        self.log("mkdir", rel)

    def file_size(self):
        bs = self.block_size
        c = self.rng.random()
        if c < 0.12:
            return 0
        if c < 0.35:
            return self.rng.randint(1, 160)  # i_block (60 bytes) and inline xattr candidates
        if c < 0.6:
            return self.rng.randint(1, 12) * bs + self.rng.choice([-1, 0, 1])
        if c < 0.9:
            return self.rng.randint(1, 256 << 10)
        return self.rng.randint(1 * MiB, 3 * MiB)

    def op_create(self):
        parent = self.pick_dir()
        rel = self.new_path(parent)
        size = self.file_size()
        fd = os.open(self.p(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.nodes[rel] = "f"
        try:
            # Written in a few chunks: the kernel allocates per write, not per file.
            off = 0
            while off < size:
                n = min(size - off, self.rng.choice([size, 4096, 65536, 1 << 20]))
                chunk = self.data(n)
                if not chunk:
                    break  # budget spent
                os.pwrite(fd, chunk, off)
                off += len(chunk)
        finally:
            os.close(fd)
        self.log("create", rel, size)

    def op_sparse(self):
        parent = self.pick_dir()
        rel = self.new_path(parent)
        if self.huge_left > 0:
            # Every byte of every file is hashed on both mounts: one file of a few GiB per seed
            # at most, the others stay in the MiB range.
            self.huge_left -= 1
            apparent = self.rng.choice([4 * GiB, 4 * GiB + self.rng.randint(-2 * MiB, 2 * MiB), self.rng.randint(1 * GiB, 5 * GiB)])
        else:
            apparent = self.rng.randint(64 << 10, 48 * MiB)
        fd = os.open(self.p(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.nodes[rel] = "f"
        try:
            os.ftruncate(fd, apparent)
            for _ in range(self.rng.randint(1, 12)):
                off = self.rng.randrange(0, apparent)
                if self.rng.random() < 0.3:
                    off -= off % self.block_size
                n = self.rng.randint(1, 3 * self.block_size)
                os.pwrite(fd, self.data(n), off)
            if self.rng.random() < 0.3:
                os.pwrite(fd, self.data(self.rng.randint(1, 100)), apparent - 1)
        finally:
            os.close(fd)
        self.log("sparse", rel, apparent)

    def growable(self):
        """A file whose size may grow: not one of the bigdir anchors with thousands of names,
        since the dump hashes every name (thousands of MiB-sized names would take minutes)."""
        rel = self.pick("f")
        if rel is None or os.stat(self.p(rel)).st_nlink > 8:
            return None
        return rel

    def op_append(self):
        rel = self.growable()
        if rel is None:
            return
        with open(self.p(rel), "ab") as f:
            f.write(self.data(self.rng.choice([1, 17, self.block_size, self.rng.randint(1, 200000)])))
        self.log("append", rel)

    def op_truncate(self):
        rel = self.growable()
        if rel is None:
            return
        size = os.stat(self.p(rel)).st_size
        if self.rng.random() < 0.5:
            new = self.rng.randint(0, size) if size else 0
        else:
            new = size + self.rng.choice([1, self.block_size, self.rng.randint(1, 1 * MiB), self.rng.randint(1, 24 * MiB)])
        os.truncate(self.p(rel), new)
        self.log("truncate", rel, size, "->", new)

    def op_fallocate(self):
        rel = self.growable()
        if rel is None:
            return
        fd = os.open(self.p(rel), os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            bs = self.block_size
            span = max(size, 16 * bs)
            off = self.rng.randrange(0, span + 8 * bs)
            if self.rng.random() < 0.4:
                off -= off % bs
            length = self.rng.randint(1, min(1 * MiB, max(bs, self.budget // 4)))
            mode = self.rng.choice([
                "posix", 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE])
            if mode == "posix":
                if not self.extents and length > self.budget:
                    return  # glibc emulates by writing zeroes
                os.posix_fallocate(fd, off, length)
            else:
                fallocate(fd, mode, off, length)
            if mode != FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
                self.budget -= length
            # Write into the (now unwritten) range: splits the unwritten extent.
            if self.rng.random() < 0.5:
                w = self.rng.randint(1, max(1, length // 2))
                os.pwrite(fd, self.data(w), off + self.rng.randrange(0, length))
        finally:
            os.close(fd)
        self.log("fallocate", rel, mode, off, length)

    def op_hardlink(self):
        rel = self.pick("f")
        if rel is None:
            return
        if os.stat(self.p(rel)).st_size > 16 * MiB:
            return  # every name is hashed on both mounts: no second name for the big sparse files
        new = self.new_path(self.pick_dir())
        os.link(self.p(rel), self.p(new))
        self.nodes[new] = "f"
        self.log("link", rel, new)

    def op_symlink(self):
        parent = self.pick_dir()
        rel = self.new_path(parent)
        c = self.rng.random()
        if c < 0.3:
            target = self.random_name(59).replace(b"\0", b"x")  # fast: fits in i_block
        elif c < 0.5:
            n = self.rng.randint(60, 4095)
            target = bytes(self.rng.choice(b"abcdefghij/._-") for _ in range(n))  # slow: a block
        elif c < 0.65:
            target = b"/nonexistent/" + self.random_name(100)  # dangling, absolute
        elif c < 0.85:
            others = [k for k in self.nodes if k]
            dest = self.rng.choice(others) if others else b"x"
            target = os.path.relpath(dest, parent or b".")  # relative to an existing node
        else:
            dest = self.pick("f")  # absolute into the mount
            target = os.path.join(self.link_root, dest) if dest else self.link_root
        if not target:
            target = b"t"
        os.symlink(target, self.p(rel))
        self.nodes[rel] = "l"
        self.log("symlink", rel, len(target))

    def op_mknod(self):
        rel = self.new_path(self.pick_dir())
        kind = self.rng.choice(["chr", "blk", "fifo", "sock", "sock-bind"])
        perm = self.rng.choice([0o600, 0o644, 0o666, 0o4755])
        if kind in ("chr", "blk"):
            major = self.rng.choice([0, 1, 7, 8, 255, 256, self.rng.randint(0, 4095)])
            minor = self.rng.choice([0, 3, 255, 256, 65536, self.rng.randint(0, (1 << 20) - 1)])
            fmt = stat.S_IFCHR if kind == "chr" else stat.S_IFBLK
            os.mknod(self.p(rel), fmt | perm, os.makedev(major, minor))
        elif kind == "fifo":
            os.mkfifo(self.p(rel), perm & 0o777)
        elif kind == "sock":
            os.mknod(self.p(rel), stat.S_IFSOCK | perm)
        else:
            if len(self.p(rel)) >= 100:  # sun_path limit
                os.mknod(self.p(rel), stat.S_IFSOCK | perm)
            else:
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.bind(self.p(rel))
                finally:
                    s.close()
        self.nodes[rel] = "n"
        self.log("mknod", kind, rel)

    def xattr_value(self):
        c = self.rng.random()
        if c < 0.15:
            return b""
        if c < 0.55:
            return self.rng.randbytes(self.rng.randint(1, 40))
        if c < 0.9:
            return self.rng.randbytes(self.rng.randint(41, 600))
        return self.rng.randbytes(self.rng.randint(601, 3000))

    def xattr_name(self):
        ns = self.rng.choice([b"user.", b"user.", b"trusted.", b"security."])
        n = self.rng.choice([1, 4, 12, self.rng.randint(1, 200)])
        return ns + bytes(self.rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789._-") for _ in range(n))

    def any_node(self, kinds="fdln"):
        items = sorted(k for k, v in self.nodes.items() if v in kinds)
        return self.rng.choice(items) if items else None

    def op_xattr(self):
        # user.* is only allowed on regular files and directories.
        rel = self.any_node("fd" if self.rng.random() < 0.9 else "fdln")
        path = self.p(rel)
        for _ in range(self.rng.randint(1, 6)):
            name = self.xattr_name()
            if self.nodes[rel] in "ln" and name.startswith(b"user."):
                name = b"trusted." + name[5:]
            try:
                os.setxattr(path, name, self.xattr_value(), follow_symlinks=False)
                self.done["xattr-set"] += 1
            except OSError as e:
                if e.errno not in EXPECTED_ERRNOS:
                    raise
                self.skipped["xattr-set:" + errno.errorcode[e.errno]] += 1
        if self.rng.random() < 0.25:
            names = sorted(os.listxattr(path, follow_symlinks=False))
            names = [n for n in names if not n.startswith("system.")]
            if names:
                os.removexattr(path, self.rng.choice(names), follow_symlinks=False)
        self.log("xattr", rel)

    def op_shared_xattrs(self):
        """The same xattr set, too big for the inode, on several files: the kernel shares one
        xattr block between them (mbcache, h_refcount > 1)."""
        files = self.of_kind("f")
        if len(files) < 2:
            return
        targets = self.rng.sample(files, min(len(files), self.rng.randint(2, 6)))
        attrs = [(self.xattr_name(), self.rng.randbytes(self.rng.randint(100, min(700, self.block_size // 3))))
                 for _ in range(self.rng.randint(1, 2))]
        for t in targets:
            for name, value in attrs:
                os.setxattr(self.p(t), name, value, follow_symlinks=False)
        self.log("shared-xattrs", len(targets))

    def acl(self, is_default):
        entries = [(0x01, self.rng.randint(0, 7), 0xFFFFFFFF)]  # ACL_USER_OBJ
        users = sorted(set(self.rng.choice([1000, 65534, 70000, self.rng.randint(1, 0xFFFFFFFE)])
                           for _ in range(self.rng.randint(0, 3))))
        groups = sorted(set(self.rng.choice([100, 65535, 123456, self.rng.randint(1, 0xFFFFFFFE)])
                            for _ in range(self.rng.randint(0, 3))))
        entries += [(0x02, self.rng.randint(0, 7), u) for u in users]  # ACL_USER
        entries.append((0x04, self.rng.randint(0, 7), 0xFFFFFFFF))  # ACL_GROUP_OBJ
        entries += [(0x08, self.rng.randint(0, 7), g) for g in groups]  # ACL_GROUP
        if users or groups or (is_default and self.rng.random() < 0.5):
            entries.append((0x10, self.rng.randint(0, 7), 0xFFFFFFFF))  # ACL_MASK
        entries.append((0x20, self.rng.randint(0, 7), 0xFFFFFFFF))  # ACL_OTHER
        # posix_acl_xattr_header: a_version = 2; then (e_tag u16, e_perm u16, e_id u32), LE.
        return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in entries)

    def op_acl(self):
        rel = self.any_node("fd")
        path = self.p(rel)
        os.setxattr(path, "system.posix_acl_access", self.acl(False))
        if self.nodes[rel] == "d" and self.rng.random() < 0.6:
            os.setxattr(path, "system.posix_acl_default", self.acl(True))
            if self.rng.random() < 0.5:
                # A child inherits the default ACL.
                child = self.new_path(rel)
                with open(self.p(child), "wb") as f:
                    self.nodes[child] = "f"  # exists even if the write fails (ENOSPC)
                    f.write(self.data(self.rng.randint(0, 100)))
        self.log("acl", rel)

    def op_chmod(self):
        rel = self.any_node("fdn")
        mode = self.rng.randint(0, 0o7777)
        os.chmod(self.p(rel), mode)
        self.log("chmod", rel, oct(mode))

    def op_chown(self):
        rel = self.any_node()
        ids = [0, 1, 1000, 65534, 65535, 65536, 70000, 1 << 24, 0xFFFFFFFE]
        uid = self.rng.choice(ids + [self.rng.randint(0, 0xFFFFFFFE)])
        gid = self.rng.choice(ids + [self.rng.randint(0, 0xFFFFFFFE)])
        os.chown(self.p(rel), uid, gid, follow_symlinks=False)
        self.log("chown", rel, uid, gid)

    def random_time_ns(self):
        c = self.rng.random()
        if c < 0.3:
            s = self.rng.randint(1_500_000_000, 1_800_000_000)
        elif c < 0.5:
            s = self.rng.randint(-(1 << 31), -1)  # before 1970
        elif c < 0.7:
            s = self.rng.randint(1 << 31, (1 << 34) - (1 << 31) - 1)  # after 2038, ext4's extra epoch bits
        elif c < 0.8:
            s = self.rng.choice([0, -1, (1 << 31) - 1, 1 << 31, -(1 << 31)])
        else:
            s = self.rng.randint(0, 1 << 31)
        return s * 1_000_000_000 + self.rng.choice([0, 1, 999_999_999, self.rng.randint(0, 999_999_999)])

    def op_utime(self):
        rel = self.any_node()
        os.utime(self.p(rel), ns=(self.random_time_ns(), self.random_time_ns()), follow_symlinks=False)
        self.log("utime", rel)

    def op_rename(self):
        if self.rng.random() < 0.3:
            src = self.pick_dir(MAX_DEPTH)
            if not src:
                return  # never the root
        else:
            src = self.any_node("fln")
        if not src:
            return
        is_dir = self.nodes[src] == "d"
        if is_dir:
            subtree_depth = max(self.depth(k) for k in self.nodes if k == src or k.startswith(src + b"/")) - self.depth(src)
            candidates = [d for d in self.of_kind("d")
                          if d != src and not d.startswith(src + b"/") and self.depth(d) + 1 + subtree_depth <= MAX_DEPTH]
            if not candidates:
                return
            parent = self.rng.choice(candidates)
        else:
            parent = self.pick_dir() if self.rng.random() < 0.6 else os.path.dirname(src)
        # Sometimes onto an existing non-directory (it is replaced).
        victims = [k for k, v in self.nodes.items() if v in "fln" and os.path.dirname(k) == parent and k != src]
        dst = None
        if not is_dir and victims and self.rng.random() < 0.3:
            dst = self.rng.choice(sorted(victims))
            if os.lstat(self.p(dst)).st_ino == os.lstat(self.p(src)).st_ino:
                dst = None  # two names of one inode: rename(2) does nothing, both stay
            else:
                self.forget(dst)
        if dst is None:
            dst = self.new_path(parent)
        os.rename(self.p(src), self.p(dst))
        prefix = src + b"/"
        moved = {}
        for k in [k for k in self.nodes if k == src or k.startswith(prefix)]:
            moved[dst + k[len(src):]] = self.nodes.pop(k)
        self.nodes.update(moved)
        self.log("rename", src, dst)

    def op_delete(self):
        if self.rng.random() < 0.15:
            d = self.pick_dir(MAX_DEPTH)
            if d and self.rng.random() < 0.5:  # never the root
                self.remove_tree(d)
                self.log("rmtree", d)
                return
        rel = self.any_node("fln")
        if rel:
            os.unlink(self.p(rel))
            self.forget(rel)
            self.log("unlink", rel)

    def remove_tree(self, rel):
        prefix = rel + b"/"
        under = sorted((k for k in self.nodes if k.startswith(prefix)), key=lambda k: (-self.depth(k), k))
        for k in under:
            if self.nodes[k] == "d":
                os.rmdir(self.p(k))
            else:
                os.unlink(self.p(k))
        os.rmdir(self.p(rel))
        self.forget(rel)

    def op_bigdir(self):
        """A directory of a few thousand entries with random names up to 255 bytes (htree
        growth and leaf splits), mostly hard links so inodes do not run out, then deletions."""
        parent = self.pick_dir(MAX_DEPTH - 2)
        d = self.new_path(parent, 40)
        os.mkdir(self.p(d))
        self.nodes[d] = "d"
        anchor = os.path.join(d, b"anchor")
        with open(self.p(anchor), "wb") as f:
            self.nodes[anchor] = "f"
            f.write(self.data(self.rng.randint(0, 5000)))
        count = self.rng.randint(500, 4000)
        names = []
        for _ in range(count):
            rel = self.new_path(d)
            c = self.rng.random()
            if c < 0.8:
                os.link(self.p(anchor), self.p(rel))
                self.nodes[rel] = "f"
            elif c < 0.9:
                with open(self.p(rel), "wb") as f:
                    self.nodes[rel] = "f"  # exists even if the write fails (ENOSPC)
                    f.write(self.data(self.rng.randint(0, 200)))
            elif c < 0.95:
                os.symlink(self.random_name(80), self.p(rel))
                self.nodes[rel] = "l"
            else:
                os.mkdir(self.p(rel))
                self.nodes[rel] = "d"
            names.append(rel)
        # Delete a random fraction, up to almost everything (the directory keeps its blocks).
        fraction = self.rng.choice([0.0, 0.1, 0.5, 0.95])
        for rel in self.rng.sample(names, int(len(names) * fraction)):
            if self.nodes[rel] == "d":
                os.rmdir(self.p(rel))
            else:
                os.unlink(self.p(rel))
            self.forget(rel)
        self.log("bigdir", d, count, fraction)

    # ----- driver --------------------------------------------------------------------------

    def run(self):
        for _ in self.run_batches(1):
            pass

    def run_batches(self, count):
        """Generator: the whole workload as COUNT batches of consecutive steps (the last batch
        also stamps the final times), yielding the batch's index and its last step after each.
        Batch boundaries draw nothing from the rng: every COUNT performs the same sequence."""
        ops = [
            (self.op_mkdir, 12), (self.op_create, 22), (self.op_sparse, 3), (self.op_append, 5),
            (self.op_truncate, 5), (self.op_fallocate, 6), (self.op_hardlink, 5), (self.op_symlink, 8),
            (self.op_mknod, 3), (self.op_xattr, 8), (self.op_shared_xattrs, 2), (self.op_acl, 3),
            (self.op_chmod, 4), (self.op_chown, 4), (self.op_utime, 5), (self.op_rename, 6),
            (self.op_delete, 6),
        ]
        funcs = [f for f, _ in ops]
        weights = [w for _, w in ops]
        steps = self.rng.randint(200, 600)
        bigdir_at = {self.rng.randrange(steps) for _ in range(self.rng.choice([0, 1, 1, 2]))}
        i = 0
        for batch in range(count):
            end = steps * (batch + 1) // count
            while i < end:
                if i in bigdir_at:
                    self.apply(self.op_bigdir)
                self.apply(self.rng.choices(funcs, weights)[0])
                i += 1
            if batch == count - 1:
                # Finally stamp times on a share of the nodes, so that the odd times survive the
                # later operations that would have touched them.
                for rel in sorted(self.nodes):
                    if self.rng.random() < 0.3:
                        self.apply(lambda r=rel: os.utime(self.p(r), ns=(self.random_time_ns(), self.random_time_ns()),
                                                          follow_symlinks=False), "final-utime")
            yield batch, end

    def apply(self, fn, name=None):
        name = name or fn.__name__[3:]
        try:
            fn()
            self.done[name] += 1
        except OSError as e:
            if e.errno not in EXPECTED_ERRNOS:
                raise
            self.skipped[name + ":" + errno.errorcode[e.errno]] += 1


def summary(w):
    kinds = Counter(w.nodes.values())
    return "\n".join([
        "seed %d layout %s: %d nodes (%s); budget left %d bytes" %
        (w.seed, w.layout, len(w.nodes), ", ".join("%s=%d" % kv for kv in sorted(kinds.items())), w.budget),
        "done: " + ", ".join("%s=%d" % kv for kv in sorted(w.done.items())),
        "skipped: " + (", ".join("%s=%d" % kv for kv in sorted(w.skipped.items())) or "none")])


def lockstep(kdir, sdir, link_root, seed, count, outdir):
    """One workload per mount, same seed, advanced batch by batch; both trees are dumped after
    every batch. A side whose operation fails unexpectedly ends the run (exit 1) after the dumps
    of the batches both completed; batches.txt names the batch and the error."""
    here = os.path.dirname(os.path.abspath(__file__))
    sides = [("kernel", Workload(kdir, seed, False, link_root)), ("safe", Workload(sdir, seed, False, link_root))]
    runs = [w.run_batches(count) for _, w in sides]
    status = 0
    with open(os.path.join(outdir, "batches.txt"), "w") as log:
        for batch in range(count):
            try:
                ends = [next(r) for r in runs]
            except OSError as e:
                print("batch %d: %s" % (batch, e), file=log)
                status = 1
                break
            print("batch %d: steps up to %d" % (batch, ends[0][1]), file=log, flush=True)
            # Dirty page cache first: the kernel's own SEEK_DATA misses unwritten-back data of
            # block-mapped (non-extent) files, and the sparse hash trusts SEEK_DATA.
            for _, w in sides:
                syncfs(w.root)
            for (name, w) in sides:
                with open(os.path.join(outdir, "batch-%02d-%s.txt" % (batch, name)), "wb") as f:
                    subprocess.run([sys.executable, os.path.join(here, "treedump.py"), os.fsdecode(w.root), "--sparse-hash"],
                                   stdout=f, check=True)
    for name, w in sides:
        with open(os.path.join(outdir, "populate-%s.txt" % name), "w") as f:
            print(summary(w), file=f)
    return status


def main(argv):
    if len(argv) == 3 and argv[1] == "layout":
        seed = int(argv[2])
        name, size, mkfs, tune2fs = LAYOUTS[seed % len(LAYOUTS)]
        print(json.dumps({"name": name, "size": size, "mkfs": mkfs, "tune2fs": tune2fs}))
        return 0
    if len(argv) == 2 and argv[1] == "layouts":
        for name, _, _, _ in LAYOUTS:
            print(name)
        return 0
    if len(argv) in (4, 5) and argv[1] == "populate":
        seed = int(argv[3])
        w = Workload(argv[2], seed, "-v" in argv[4:])
        w.run()
        print(summary(w))
        return 0
    if len(argv) == 8 and argv[1] == "lockstep":
        return lockstep(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), argv[7])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
