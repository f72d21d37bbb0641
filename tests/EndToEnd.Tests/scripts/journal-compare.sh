#!/bin/bash
# Runs inside a private mount namespace. KCOPY is a copy of the dirty image DIRTY: the kernel
# recovers it (rw mount and umount), then mounts it ro; safe.ext4 mounts DIRTY itself ro (and
# must replay its journal in memory); both trees and statfs are dumped as in compare-mounts.sh.
# The kernel cannot mount DIRTY ro,loop itself (recovery needs a writable device).
# Usage: journal-compare.sh DIRTY KCOPY OUTDIR HELPERDIR
set -euo pipefail
dirty=$1
kcopy=$2
out=$3
helperdir=$4
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/k" "$out/s"
cleanup() {
    umount "$out/s" 2>/dev/null || true
    umount "$out/k" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
mount -o loop "$kcopy" "$out/k"
umount "$out/k"
mount -o ro,loop "$kcopy" "$out/k"
mount -t safe.ext4 -o ro "$dirty" "$out/s" 2> "$out/mount-stderr"
cat "$out/mount-stderr" >&2
python3 "$here/treedump.py" "$out/k" > "$out/kernel.txt"
python3 "$here/treedump.py" "$out/s" > "$out/safe.txt"
stat -f -c 'bsize=%S frsize=%S blocks=%b bfree=%f bavail=%a files=%c ffree=%d namelen=%l' "$out/k" > "$out/statfs-kernel.txt"
stat -f -c 'bsize=%S frsize=%S blocks=%b bfree=%f bavail=%a files=%c ffree=%d namelen=%l' "$out/s" > "$out/statfs-safe.txt"
umount "$out/s"
umount "$out/k"
