#!/usr/bin/env python3
"""Seeded file-data exerciser (in the spirit of fsx): random writes, reads, truncates, hole punches,
zero ranges, preallocation, appends and copy_file_range on a few files, with an in-memory model
of every file's bytes. Every read is checked against the model at once, every file's size after
every operation, and after the run every file is read back whole. SEEK_DATA must never skip a
non-zero byte of the model, and SEEK_HOLE must answer inside the file.

Usage: data-exerciser.py DIR SEED OPS [--files N] [--max-size BYTES] [--fsync-every K]
Prints one summary line "ops=N reads=N bytes=N files=N sha256=<hash of all files>" on success;
on a mismatch prints the op log tail and exits 1.
"""
import argparse
import ctypes
import ctypes.util
import errno
import hashlib
import os
import random
import sys

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10
SEEK_DATA = 3
SEEK_HOLE = 4

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class Exerciser:
    def __init__(self, root, seed, files, max_size):
        self.rng = random.Random(seed)
        self.root = root
        self.max_size = max_size
        self.names = [os.path.join(root, "data-%d" % i) for i in range(files)]
        self.model = [bytearray() for _ in range(files)]
        self.fds = [os.open(n, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644) for n in self.names]
        self.log = []
        self.reads = 0
        self.bytes = 0

    def fail(self, what):
        sys.stderr.write("MISMATCH: %s\nlast operations:\n%s\n" % (what, "\n".join(self.log[-30:])))
        sys.exit(1)

    def span(self, size):
        off = self.rng.choice([0, self.rng.randrange(0, self.max_size), self.rng.randrange(0, max(1, size + 1)),
                               (self.rng.randrange(0, self.max_size) // 4096) * 4096])
        length = self.rng.choice([1, 17, 511, 4096, 4097, self.rng.randrange(1, 65536), self.rng.randrange(1, 1 << 20)])
        return off, min(length, max(1, self.max_size - off))

    def op_write(self, i):
        m = self.model[i]
        off, n = self.span(len(m))
        data = self.rng.randbytes(n)
        os.pwrite(self.fds[i], data, off)
        if off > len(m):
            m.extend(bytes(off - len(m)))
        m[off:off + n] = data
        self.bytes += n
        self.log.append("write %d off=%d len=%d" % (i, off, n))

    def op_append(self, i):
        n = self.rng.choice([1, 100, 4096, self.rng.randrange(1, 200000)])
        n = min(n, max(0, self.max_size - len(self.model[i])))
        if n == 0:
            return
        data = self.rng.randbytes(n)
        fd = os.open(self.names[i], os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        self.model[i].extend(data)
        self.bytes += n
        self.log.append("append %d len=%d" % (i, n))

    def op_truncate(self, i):
        m = self.model[i]
        new = self.rng.choice([0, self.rng.randrange(0, len(m) + 1), self.rng.randrange(0, self.max_size)])
        os.ftruncate(self.fds[i], new)
        if new < len(m):
            del m[new:]
        else:
            m.extend(bytes(new - len(m)))
        self.log.append("truncate %d to %d" % (i, new))

    def op_fallocate(self, i):
        m = self.model[i]
        mode = self.rng.choice([0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE])
        off, n = self.span(len(m))
        try:
            fallocate(self.fds[i], mode, off, n)
        except OSError as e:
            if e.errno in (errno.EOPNOTSUPP, errno.ENOSPC):
                self.log.append("fallocate %d mode=%x off=%d len=%d -> %s" % (i, mode, off, n, e.strerror))
                return
            raise
        end = off + n
        if mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE):
            lo, hi = min(off, len(m)), min(end, len(m))
            m[lo:hi] = bytes(hi - lo)
        if not (mode & FALLOC_FL_KEEP_SIZE) and end > len(m):
            m.extend(bytes(end - len(m)))
        self.log.append("fallocate %d mode=%x off=%d len=%d" % (i, mode, off, n))

    def op_copy(self, i):
        j = self.rng.randrange(len(self.fds))
        src = self.model[j]
        if not src:
            return
        off_in = self.rng.randrange(0, len(src))
        n = self.rng.randrange(1, min(len(src) - off_in, 1 << 20) + 1)
        off_out = self.rng.randrange(0, self.max_size - n) if self.max_size > n else 0
        if i == j and off_in < off_out + n and off_out < off_in + n:
            return  # overlapping ranges in one file: EINVAL by definition
        data = bytes(src[off_in:off_in + n])
        done = 0
        while done < n:
            got = os.copy_file_range(self.fds[j], self.fds[i], n - done, off_in + done, off_out + done)
            if got == 0:
                break
            done += got
        m = self.model[i]
        if off_out > len(m):
            m.extend(bytes(off_out - len(m)))
        m[off_out:off_out + done] = data[:done]
        self.log.append("copy %d[%d:+%d] -> %d@%d (%d)" % (j, off_in, n, i, off_out, done))

    def op_read(self, i):
        m = self.model[i]
        off, n = self.span(len(m))
        got = os.pread(self.fds[i], n, off)
        want = bytes(m[off:off + n])
        self.reads += 1
        if got != want:
            self.fail("read %d off=%d len=%d: %d bytes differ (got %d bytes, want %d)" % (
                i, off, n, sum(1 for a, b in zip(got, want) if a != b), len(got), len(want)))

    def op_seek(self, i):
        m = self.model[i]
        if not m:
            return
        off = self.rng.randrange(0, len(m))
        try:
            data = os.lseek(self.fds[i], off, SEEK_DATA)
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise
            data = len(m)
        # Everything in [off, data) must be zeros: a hole may hide nothing.
        if any(m[off:data]):
            self.fail("SEEK_DATA %d from %d said %d but non-zero bytes lie before it" % (i, off, data))
        hole = os.lseek(self.fds[i], off, SEEK_HOLE)
        if hole < off or hole > len(m):
            self.fail("SEEK_HOLE %d from %d said %d (size %d)" % (i, off, hole, len(m)))

    def run(self, ops, fsync_every):
        kinds = [(self.op_write, 30), (self.op_read, 25), (self.op_truncate, 6), (self.op_fallocate, 10),
                 (self.op_append, 8), (self.op_copy, 6), (self.op_seek, 5)]
        funcs = [k for k, _ in kinds]
        weights = [w for _, w in kinds]
        for n in range(ops):
            i = self.rng.randrange(len(self.fds))
            self.rng.choices(funcs, weights)[0](i)
            if fsync_every and n % fsync_every == fsync_every - 1:
                os.fsync(self.fds[i])
            st = os.fstat(self.fds[i])
            if st.st_size != len(self.model[i]):
                self.fail("after op %d file %d has size %d, model %d" % (n, i, st.st_size, len(self.model[i])))
        h = hashlib.sha256()
        for i, fd in enumerate(self.fds):
            os.fsync(fd)
            got = b""
            while True:
                chunk = os.pread(fd, 1 << 20, len(got))
                if not chunk:
                    break
                got += chunk
            if got != bytes(self.model[i]):
                self.fail("final content of file %d differs" % i)
            h.update(got)
            os.close(fd)
        print("ops=%d reads=%d bytes=%d files=%d sha256=%s" % (ops, self.reads, self.bytes, len(self.fds), h.hexdigest()))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("seed", type=int)
    p.add_argument("ops", type=int)
    p.add_argument("--files", type=int, default=3)
    p.add_argument("--max-size", type=int, default=8 << 20)
    p.add_argument("--fsync-every", type=int, default=97)
    a = p.parse_args()
    Exerciser(a.dir, a.seed, a.files, a.max_size).run(a.ops, a.fsync_every)


if __name__ == "__main__":
    main()
