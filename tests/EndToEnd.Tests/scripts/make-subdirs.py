#!/usr/bin/env python3
"""Creates DIR and COUNT empty subdirectories d00000, d00001, ... in it.

Usage: make-subdirs.py DIR COUNT
"""
import os
import sys


def main():
    d, count = sys.argv[1], int(sys.argv[2])
    os.makedirs(d, exist_ok=True)
    for i in range(count):
        os.mkdir(os.path.join(d, "d%05d" % i))


if __name__ == "__main__":
    main()
