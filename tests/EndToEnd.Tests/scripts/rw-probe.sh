#!/bin/bash
# Runs inside a private mount namespace (unshare -m --propagation private): mounts IMG read-write
# with FSTYPE ("ext4" through a loop device with safe.ext4's default nosuid,nodev, or
# "safe.ext4"), runs `python3 PROBE MOUNTDIR
# PROBE-ARGS...` on it (its stdout is this script's), and unmounts. The mount dies with the
# namespace even if this script is killed.
# Usage: rw-probe.sh IMG MNT HELPERDIR FSTYPE PROBE [PROBE-ARGS...]
set -euo pipefail
img=$1
mnt=$2
helperdir=$3
fstype=$4
probe=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$mnt"
cleanup() {
    umount "$mnt" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
if [ "$fstype" = ext4 ]; then
    mount -o loop,nosuid,nodev "$img" "$mnt"
else
    mount -t safe.ext4 -o rw "$img" "$mnt"
fi
python3 "$here/$probe" "$mnt" "$@"
umount "$mnt"
