#!/bin/bash
# Runs inside a private mount namespace: kill -9 of safemount-ext4 under a mounted workload,
# then recovery by safe.ext4 and by the kernel.
#  1. safe.ext4 mounts IMG with OPTS (rw, maybe commit=N) at OUTDIR/w; crash-workload.py runs SEED on it and
#     SIGKILLs the service serving it (the one safemount-ext4 with executable SERVICE that
#     appeared with this mount) mid-run; its log of returned fsyncs goes to OUTDIR/fsync.log.
#  2. umount of the dead connection must succeed, and then nothing may be left: no mount at
#     OUTDIR/w, no service process, no loop device on IMG.
#  3. IMG is copied (sparse) to KCOPY.
#  4. safe.ext4 mounts IMG read-write (its journal recovery), every logged fsync is verified,
#     the tree dumped (safe-recovered.txt), umount.
#  5. the kernel mounts KCOPY read-write (its recovery), verifies, umount; then read-only and
#     dumps (kernel-recovered.txt).
# Dumps use treedump.py --no-atime (reads through a kernel rw mount stamp atime).
# Usage: crash-kill.sh IMG KCOPY OUTDIR HELPERDIR SEED SERVICE OPTS
set -euo pipefail
img=$1
kcopy=$2
out=$3
helperdir=$4
seed=$5
service=$6
opts=$7
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/w" "$out/r" "$out/k"
cleanup() {
    for d in w r k; do umount "$out/$d" 2>/dev/null || umount -l "$out/$d" 2>/dev/null || true; done
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
service_pids() {
    for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/exe" 2>/dev/null)" = "$service" ]; then echo "${p#/proc/}"; fi
    done | sort
}
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
service_pids > "$out/pids-before"
mount -t safe.ext4 -o "$opts" "$img" "$out/w"
service_pids > "$out/pids-after"
pid=$(comm -13 "$out/pids-before" "$out/pids-after")
if [ "$(echo "$pid" | wc -w)" != 1 ]; then
    echo "expected one new safemount-ext4 process for the mount, found: '$pid'" >&2
    exit 1
fi
echo "service pid $pid"
: > "$out/fsync.log"
python3 "$here/crash-workload.py" run "$out/w" "$seed" "$out/fsync.log" "$pid"
# The service is gone (SIGKILL cannot be caught); wait for the kernel to reap it.
for _ in $(seq 1 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
done
if [ -d "/proc/$pid" ]; then echo "service $pid still exists after SIGKILL" >&2; exit 1; fi
umount "$out/w"
if grep -q " $out/w " /proc/self/mountinfo; then echo "the dead mount is still there" >&2; exit 1; fi
for _ in $(seq 1 100); do
    [ -z "$(losetup -n -O NAME -j "$img")" ] && break
    sleep 0.1
done
if [ -n "$(losetup -n -O NAME -j "$img")" ]; then echo "loop device left on $img: $(losetup -j "$img")" >&2; exit 1; fi
echo "umount after the kill: clean"
cp --sparse=always "$img" "$kcopy"
dumpe2fs -h "$img" 2>/dev/null | grep -E '^(Filesystem features|Filesystem state|Journal start|Journal sequence):' > "$out/crashed-header.txt" || true
mount -t safe.ext4 -o rw "$img" "$out/r" 2> "$out/remount-stderr"
cat "$out/remount-stderr" >&2
python3 "$here/crash-workload.py" verify "$out/r" "$out/fsync.log" | sed 's/^/safe.ext4: /'
python3 "$here/treedump.py" "$out/r" --no-atime > "$out/safe-recovered.txt"
umount "$out/r"
mount -o loop "$kcopy" "$out/k"
python3 "$here/crash-workload.py" verify "$out/k" "$out/fsync.log" | sed 's/^/kernel: /'
umount "$out/k"
mount -o ro,loop "$kcopy" "$out/k"
python3 "$here/treedump.py" "$out/k" --no-atime > "$out/kernel-recovered.txt"
umount "$out/k"
