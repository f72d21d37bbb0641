#!/bin/bash
# Runs inside a private mount namespace. KCOPY is a copy of the dirty image DIRTY: the kernel
# recovers it (rw mount and umount), then mounts it ro; safe.ext4 mounts DIRTY itself ro (and
# must replay its journal in memory); both trees and statfs are dumped as in compare-mounts.sh.
# The kernel cannot mount DIRTY ro,loop itself (recovery needs a writable device).
# With MODE "noload" nothing is recovered: the kernel mounts KCOPY ro,noload and safe.ext4
# mounts DIRTY ro,noload, and both must show the same un-replayed tree; safe.ext4 then also
# mounts DIRTY ro with recovery at OUTDIR/r (tree in replayed.txt) so the caller can check that
# the two views really differ.
# Usage: journal-compare.sh DIRTY KCOPY OUTDIR HELPERDIR [MODE]
set -euo pipefail
dirty=$1
kcopy=$2
out=$3
helperdir=$4
mode=${5:-recover}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/k" "$out/s" "$out/r"
cleanup() {
    umount "$out/r" 2>/dev/null || true
    umount "$out/s" 2>/dev/null || true
    umount "$out/k" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
if [ "$mode" = noload ]; then
    mount -o ro,loop,noload "$kcopy" "$out/k"
    mount -t safe.ext4 -o ro,noload "$dirty" "$out/s" 2> "$out/mount-stderr"
else
    mount -o loop "$kcopy" "$out/k"
    umount "$out/k"
    mount -o ro,loop "$kcopy" "$out/k"
    mount -t safe.ext4 -o ro "$dirty" "$out/s" 2> "$out/mount-stderr"
fi
cat "$out/mount-stderr" >&2
python3 "$here/treedump.py" "$out/k" > "$out/kernel.txt"
python3 "$here/treedump.py" "$out/s" > "$out/safe.txt"
stat -f -c 'bsize=%S frsize=%S blocks=%b bfree=%f bavail=%a files=%c ffree=%d namelen=%l' "$out/k" > "$out/statfs-kernel.txt"
stat -f -c 'bsize=%S frsize=%S blocks=%b bfree=%f bavail=%a files=%c ffree=%d namelen=%l' "$out/s" > "$out/statfs-safe.txt"
umount "$out/s"
umount "$out/k"
if [ "$mode" = noload ]; then
    mount -t safe.ext4 -o ro "$dirty" "$out/r" 2>/dev/null
    python3 "$here/treedump.py" "$out/r" > "$out/replayed.txt"
    umount "$out/r"
fi
