#!/bin/bash
# Runs inside a private mount namespace (unshare -m --propagation private): the same seeded
# workload (difftest-populate.py lockstep) is written through the kernel's ext4 (rw loop mount of
# IMG_KERNEL) and through `mount -t safe.ext4 -o rw` (IMG_SAFE, a copy of the same fresh image)
# in BATCHES batches, both trees dumped (treedump.py) after every batch; both are unmounted, then
# both are mounted read-only by the kernel and dumped with treedump.py, and the safe.ext4-written
# image is also dumped through safe.ext4 itself. Every dump hashes file contents with
# --sparse-hash (holes are not read: the workload makes files of a few GiB apparent size).
# Mounts die with the namespace even if this script is killed. A workload failure still
# unmounts and exits 3 after the batch dumps.
# Usage: write-compare.sh IMG_KERNEL IMG_SAFE OUTDIR HELPERDIR SEED BATCHES
set -euo pipefail
imgk=$1
imgs=$2
out=$3
helperdir=$4
seed=$5
batches=$6
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/w" "$out/wk" "$out/ws" "$out/k" "$out/s" "$out/ss"
cleanup() {
    for d in wk ws ss s k; do umount "$out/$d" 2>/dev/null || true; done
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
# Absolute symlink targets into the mount name $out/w on both writers (equal strings).
mount -o loop "$imgk" "$out/wk"
mount -t safe.ext4 -o rw "$imgs" "$out/ws"
grep " $out/ws " /proc/self/mountinfo > "$out/mountinfo-rw"
status=0
python3 "$here/difftest-populate.py" lockstep "$out/wk" "$out/ws" "$out/w" "$seed" "$batches" "$out" || status=3
umount "$out/ws"
umount "$out/wk"
if [ "$status" -ne 0 ]; then
    exit "$status"
fi
mount -o ro,loop "$imgk" "$out/k"
mount -o ro,loop "$imgs" "$out/s"
mount -t safe.ext4 -o ro "$imgs" "$out/ss"
python3 "$here/treedump.py" "$out/k" --sparse-hash > "$out/kernel-written.txt"
python3 "$here/treedump.py" "$out/s" --sparse-hash > "$out/safe-written.txt"
python3 "$here/treedump.py" "$out/ss" --sparse-hash > "$out/safe-written-safe-read.txt"
umount "$out/ss"
umount "$out/s"
umount "$out/k"
