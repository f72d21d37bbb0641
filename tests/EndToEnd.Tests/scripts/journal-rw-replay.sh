#!/bin/bash
# Runs inside a private mount namespace. DIRTY and KCOPY are two copies of one image whose
# journal the kernel left dirty (journal-make-dirty.sh). safe.ext4 mounts DIRTY read-write
# (replaying the journal onto the device), journal-more-writes.py changes the tree, umount; the
# kernel mounts KCOPY read-write (its own recovery), the same script, umount. Then the kernel
# mounts both read-only and dumps them (treedump.py --no-atime: reads through a kernel rw mount
# stamp atime, through FUSE they do not), and safe.ext4 dumps DIRTY read-only.
# Outputs in OUTDIR: mount-stderr (the rw mount's notes), writes-safe.txt, writes-kernel.txt,
# kernel-written.txt, safe-written.txt, safe-written-safe-read.txt.
# Usage: journal-rw-replay.sh DIRTY KCOPY OUTDIR HELPERDIR
set -euo pipefail
dirty=$1
kcopy=$2
out=$3
helperdir=$4
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/w" "$out/k" "$out/s" "$out/ss"
cleanup() {
    for d in w ss s k; do umount "$out/$d" 2>/dev/null || true; done
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
mount -t safe.ext4 -o rw "$dirty" "$out/w" 2> "$out/mount-stderr"
cat "$out/mount-stderr" >&2
python3 "$here/journal-more-writes.py" "$out/w" > "$out/writes-safe.txt"
umount "$out/w"
mount -o loop "$kcopy" "$out/w"
python3 "$here/journal-more-writes.py" "$out/w" > "$out/writes-kernel.txt"
umount "$out/w"
mount -o ro,loop "$kcopy" "$out/k"
mount -o ro,loop "$dirty" "$out/s"
mount -t safe.ext4 -o ro "$dirty" "$out/ss"
python3 "$here/treedump.py" "$out/k" --no-atime > "$out/kernel-written.txt"
python3 "$here/treedump.py" "$out/s" --no-atime > "$out/safe-written.txt"
python3 "$here/treedump.py" "$out/ss" --no-atime > "$out/safe-written-safe-read.txt"
umount "$out/ss"
umount "$out/s"
umount "$out/k"
