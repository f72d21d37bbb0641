#!/usr/bin/env python3
"""Creates COUNT empty regular files in DIR whose names are fixed by their index and written,
hex-encoded, one per line to LIST. Names are NAMELEN bytes (at least 12) and, with --high-bytes,
mix in bytes >= 0x80 (UTF-8 letters and bytes that are not UTF-8) so that the signed and
unsigned htree hash variants place them differently.

Usage: make-names.py DIR COUNT NAMELEN LIST [--high-bytes]
"""
import os
import sys

HIGH = [b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b"\x80", b"\xfe\xfd", b"\xf0\x9f\x90\x8d"]


def name(i, length, high):
    head = b"%06d-" % i
    if high:
        head += HIGH[i % len(HIGH)] + HIGH[(i // 7) % len(HIGH)]
    fill = b"abcdefghijklmnopqrstuvwxyz0123456789"
    body = bytes(fill[(i * 7 + k) % len(fill)] for k in range(max(0, length - len(head))))
    return (head + body)[:max(length, len(head))]


def main():
    d, count, length, listing = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    high = "--high-bytes" in sys.argv[5:]
    base = os.fsencode(d)
    os.makedirs(base, exist_ok=True)
    with open(listing, "w") as out:
        for i in range(count):
            n = name(i, length, high)
            os.close(os.open(os.path.join(base, n), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644))
            out.write(n.hex() + "\n")


if __name__ == "__main__":
    main()
