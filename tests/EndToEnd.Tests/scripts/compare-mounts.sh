#!/bin/bash
# Runs inside a private mount namespace (unshare -m --propagation private): mounts IMG once with
# the kernel's ext4 (ro, loop) and once with `mount -t safe.ext4 -o OPTS`, dumps both trees with
# treedump.py and statfs, records the safe.ext4 mountinfo line, and unmounts both. Mounts die with
# the namespace even if this script is killed.
# Usage: compare-mounts.sh IMG OUTDIR HELPERDIR [OPTS [PROBE [PROBE-ARGS...]]]
#   HELPERDIR holds mount.safe.ext4; it is overlaid on /usr/sbin inside the namespace so that
#   mount(8) finds the helper exactly as it would after `make install`.
#   PROBE, when given, runs as `PROBE MOUNTDIR PROBE-ARGS...` on each fresh mount before the
#   tree is dumped (so its lookups reach the file system, not the dentry cache); its stdout goes
#   to OUTDIR/probe-kernel.txt and OUTDIR/probe-safe.txt.
#   TREEDUMP=0 in the environment skips the tree dumps (for trees too large to walk twice,
#   where the probe is the comparison).
set -euo pipefail
img=$1
out=$2
helperdir=$3
opts=${4:-ro}
probe=()
if [ $# -ge 5 ]; then probe=("${@:5}"); fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/k" "$out/s"
cleanup() {
    umount "$out/s" 2>/dev/null || true
    umount "$out/k" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
mount -o ro,loop "$img" "$out/k"
mount -t safe.ext4 -o "$opts" "$img" "$out/s"
grep " $out/s " /proc/self/mountinfo > "$out/mountinfo"
if [ ${#probe[@]} -gt 0 ]; then
    "${probe[0]}" "$out/k" "${probe[@]:1}" > "$out/probe-kernel.txt"
    "${probe[0]}" "$out/s" "${probe[@]:1}" > "$out/probe-safe.txt"
fi
if [ "${TREEDUMP:-1}" = 1 ]; then
    python3 "$here/treedump.py" "$out/k" > "$out/kernel.txt"
    python3 "$here/treedump.py" "$out/s" > "$out/safe.txt"
fi
stat -f -c 'bsize=%S frsize=%S blocks=%b bfree=%f bavail=%a files=%c ffree=%d namelen=%l' "$out/k" > "$out/statfs-kernel.txt"
stat -f -c 'bsize=%S frsize=%S blocks=%b bfree=%f bavail=%a files=%c ffree=%d namelen=%l' "$out/s" > "$out/statfs-safe.txt"
umount "$out/s"
umount "$out/k"
