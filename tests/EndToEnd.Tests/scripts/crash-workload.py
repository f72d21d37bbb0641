#!/usr/bin/env python3
"""A mounted workload that is killed in the middle, and the check of what must survive.

run ROOT SEED LOG PID: seeded operations on the file system at ROOT. "Stable" files
(under ROOT/s) are written once, fsynced (or fdatasynced) and never touched again; each one
whose fsync RETURNED success is appended to LOG (outside the mount, flushed and fsynced at
once) as "sha256 relative-path". Everything else churns under ROOT/c: creates, overwrites,
appends, truncates, renames, unlinks, mkdir/rmdir, xattrs, unlinked-but-open and O_TMPFILE
files (up to four are open at the kill: orphans for recovery to release), a directory that
grows past one block into an htree. At a seeded operation (between OPS/5 and OPS-50) a thread
sends SIGKILL to PID (the safemount-ext4 serving ROOT) after a seeded delay of 0-20 ms, while
the workload goes on until an operation fails; that must be a dead connection (ENOTCONN,
ECONNABORTED, EIO). A failure before the kill, or of another kind, is an error (exit 2).
Prints the kill point, the number of logged fsyncs and the error seen.

verify ROOT LOG: every logged file exists at ROOT with exactly the logged content; exit 1
otherwise. Prints "verified N fsynced files".
"""
import errno
import hashlib
import os
import random
import signal
import sys
import threading
import time

OPS = 500
DEAD = (errno.ENOTCONN, errno.ECONNABORTED, errno.EIO)


class Workload:
    def __init__(self, root, seed, log):
        self.root = root
        self.rng = random.Random(seed)
        self.log = log
        self.stable = 0
        self.churn = []          # relative paths of live churn files
        self.churn_dirs = ["c"]
        self.held = []           # open descriptors of unlinked and O_TMPFILE files
        self.serial = 0
        self.logged = 0

    def path(self, rel):
        return os.path.join(self.root, rel)

    def name(self, prefix):
        self.serial += 1
        return "%s-%05d" % (prefix, self.serial)

    def data(self, limit):
        size = self.rng.choice([0, 1, 100, 4095, 4096, 4097, self.rng.randrange(limit)])
        return self.rng.randbytes(size)

    def hold(self, fd):
        """Keeps at most four orphan-making descriptors open; closing the oldest releases it."""
        self.held.append(fd)
        if len(self.held) > 4:
            os.close(self.held.pop(0))

    def write_stable(self):
        # Sometimes in a new directory: its creation must be durable with the fsynced file.
        if self.stable % 7 == 0:
            os.mkdir(self.path("s/d%d" % (self.stable // 7)))
        where = "s/big" if self.rng.random() < 0.3 else "s/d%d" % (self.stable // 7)
        rel = "%s/%s" % (where, self.name("stable-file-with-a-fairly-long-name"))
        content = self.data(256 * 1024)
        fd = os.open(self.path(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            for off in range(0, len(content), 65536):
                os.write(fd, content[off:off + 65536])
            if self.rng.random() < 0.3:
                os.fdatasync(fd)
            else:
                os.fsync(fd)
        finally:
            os.close(fd)
        self.stable += 1
        self.log.write("%s %s\n" % (hashlib.sha256(content).hexdigest(), rel))
        self.log.flush()
        os.fsync(self.log.fileno())
        self.logged += 1

    def churn_op(self):
        r = self.rng.random()
        if r < 0.25 or not self.churn:
            d = self.rng.choice(self.churn_dirs)
            rel = "%s/%s" % (d, self.name("churn"))
            with open(self.path(rel), "wb") as f:
                f.write(self.data(128 * 1024))
            self.churn.append(rel)
        elif r < 0.35:
            rel = self.rng.choice(self.churn)
            with open(self.path(rel), "ab") as f:
                f.write(self.data(32 * 1024))
        elif r < 0.45:
            rel = self.rng.choice(self.churn)
            with open(self.path(rel), "r+b") as f:
                f.seek(self.rng.randrange(8192))
                f.write(self.data(16 * 1024))
        elif r < 0.52:
            os.truncate(self.path(self.rng.choice(self.churn)), self.rng.randrange(20000))
        elif r < 0.62:
            rel = self.churn.pop(self.rng.randrange(len(self.churn)))
            new = "%s/%s" % (self.rng.choice(self.churn_dirs), self.name("renamed"))
            os.rename(self.path(rel), self.path(new))
            self.churn.append(new)
        elif r < 0.72:
            rel = self.churn.pop(self.rng.randrange(len(self.churn)))
            os.unlink(self.path(rel))
        elif r < 0.78:
            d = "%s/%s" % (self.rng.choice(self.churn_dirs), self.name("dir"))
            os.mkdir(self.path(d))
            self.churn_dirs.append(d)
        elif r < 0.82 and len(self.churn_dirs) > 1:
            d = self.churn_dirs[-1]
            if not any(c.startswith(d + "/") for c in self.churn) and not any(x.startswith(d + "/") for x in self.churn_dirs):
                os.rmdir(self.path(d))
                self.churn_dirs.pop()
        elif r < 0.88:
            os.setxattr(self.path(self.rng.choice(self.churn)), "user.k%d" % self.rng.randrange(4), self.rng.randbytes(self.rng.randrange(1, 300)))
        elif r < 0.92:
            # An open file loses its last name: an orphan until closed (ext4_orphan_add); those
            # still open when the service dies are left for recovery to release.
            rel = self.churn.pop(self.rng.randrange(len(self.churn)))
            fd = os.open(self.path(rel), os.O_RDWR)
            self.hold(fd)
            os.unlink(self.path(rel))
            os.write(fd, self.data(64 * 1024))
        elif r < 0.95:
            # O_TMPFILE: born on the orphan list, with data.
            fd = os.open(self.path(self.rng.choice(self.churn_dirs)), os.O_TMPFILE | os.O_RDWR, 0o600)
            self.hold(fd)
            os.write(fd, self.data(64 * 1024))
        else:
            for _ in range(20):
                open(self.path("c/big/%s" % self.name("entry-in-a-growing-directory")), "wb").close()


def run(root, seed, log_path, pid):
    w = None
    with open(log_path, "a") as log:
        w = Workload(root, seed, log)
        kill_at = w.rng.randrange(OPS // 5, OPS - 50)
        delay = w.rng.randrange(0, 20) / 1000.0
        killed = threading.Event()

        def killer():
            time.sleep(delay)
            killed.set()
            os.kill(pid, signal.SIGKILL)

        print("kill at operation %d after %.3f s" % (kill_at, delay))
        thread = None
        try:
            os.makedirs(w.path("s/big"))
            os.makedirs(w.path("c/big"))
            # Runs until the dead connection stops it; the bound only turns a kill that never
            # takes effect into a failure instead of a hang.
            for op in range(OPS * 100):
                if op == kill_at:
                    thread = threading.Thread(target=killer)
                    thread.start()
                if w.rng.random() < 0.35:
                    w.write_stable()
                else:
                    w.churn_op()
            print("the workload never saw the service die")
            sys.exit(2)
        except OSError as e:
            if not killed.is_set() or e.errno not in DEAD:
                print("operation failed before the kill (or not as a dead connection): %r" % e)
                sys.exit(2)
            print("after the kill: %s" % errno.errorcode.get(e.errno, e.errno))
        finally:
            if thread is not None:
                thread.join()
        print("fsynced files logged: %d" % w.logged)


def verify(root, log_path):
    count = 0
    bad = []
    with open(log_path) as log:
        for line in log:
            digest, rel = line.rstrip("\n").split(" ", 1)
            count += 1
            try:
                with open(os.path.join(root, rel), "rb") as f:
                    got = hashlib.sha256(f.read()).hexdigest()
            except OSError as e:
                bad.append("%s: %s" % (rel, e))
                continue
            if got != digest:
                bad.append("%s: content differs" % rel)
    for b in bad[:20]:
        print("LOST: " + b)
    print("verified %d fsynced files, %d lost" % (count, len(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "verify":
        verify(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: crash-workload.py run ROOT SEED LOG PID | verify ROOT LOG")
