#!/usr/bin/env python3
"""Looks up every name listed in NAMES (one hex-encoded name per line) in DIR under ROOT, with
no readdir first, so each lookup walks the directory's htree in the file system itself. Prints
one line per name (hex name, inode number or the errno) and a final summary line.

Usage: lookup-probe.py ROOT DIR NAMES
"""
import os
import sys


def main():
    root, rel, names_file = sys.argv[1], sys.argv[2], sys.argv[3]
    base = os.path.join(os.fsencode(root), os.fsencode(rel))
    found = missing = 0
    with open(names_file) as f:
        names = [bytes.fromhex(line.strip()) for line in f if line.strip()]
    for name in names:
        try:
            st = os.lstat(os.path.join(base, name))
            print("%s ino=%d" % (name.hex(), st.st_ino))
            found += 1
        except OSError as e:
            print("%s errno=%d" % (name.hex(), e.errno))
            missing += 1
    print("summary found=%d missing=%d" % (found, missing))


if __name__ == "__main__":
    main()
