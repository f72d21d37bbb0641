#!/bin/bash
# Runs inside a private mount namespace (unshare -m --propagation private): the same seeded
# workload (difftest-populate.py) is written once through the kernel's ext4 (rw loop mount of
# IMG_KERNEL) and once through `mount -t safe.ext4 -o rw` (IMG_SAFE, a copy of the same fresh
# image); both are unmounted, then both are mounted read-only by the kernel and dumped with
# treedump.py, and the safe.ext4-written image is also dumped through safe.ext4 itself. Mounts
# die with the namespace even if this script is killed.
# Usage: write-compare.sh IMG_KERNEL IMG_SAFE OUTDIR HELPERDIR SEED
set -euo pipefail
imgk=$1
imgs=$2
out=$3
helperdir=$4
seed=$5
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/w" "$out/k" "$out/s" "$out/ss"
cleanup() {
    for d in w ss s k; do umount "$out/$d" 2>/dev/null || true; done
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
# Both writers use the same mount point: the workload writes absolute symlink targets.
mount -o loop "$imgk" "$out/w"
python3 "$here/difftest-populate.py" populate "$out/w" "$seed" > "$out/populate-kernel.txt"
umount "$out/w"
mount -t safe.ext4 -o rw "$imgs" "$out/w"
grep " $out/w " /proc/self/mountinfo > "$out/mountinfo-rw"
python3 "$here/difftest-populate.py" populate "$out/w" "$seed" > "$out/populate-safe.txt"
umount "$out/w"
mount -o ro,loop "$imgk" "$out/k"
mount -o ro,loop "$imgs" "$out/s"
mount -t safe.ext4 -o ro "$imgs" "$out/ss"
python3 "$here/treedump.py" "$out/k" > "$out/kernel-written.txt"
python3 "$here/treedump.py" "$out/s" > "$out/safe-written.txt"
python3 "$here/treedump.py" "$out/ss" > "$out/safe-written-safe-read.txt"
umount "$out/ss"
umount "$out/s"
umount "$out/k"
