#!/bin/bash
# Runs inside a private mount namespace: mounts IMG read-write with FSTYPE ("ext4" through a loop
# device, or "safe.ext4"), runs data-exerciser.py SEED OPS on it, then a fill-to-ENOSPC pass
# (fill.py), unmounts. Prints the exerciser's summary and the fill's statfs lines.
# Usage: rw-data.sh IMG MNT HELPERDIR FSTYPE SEED OPS
set -euo pipefail
img=$1
mnt=$2
helperdir=$3
fstype=$4
seed=$5
ops=$6
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$mnt"
cleanup() {
    umount "$mnt" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
if [ "$fstype" = ext4 ]; then
    mount -o loop "$img" "$mnt"
else
    mount -t safe.ext4 -o rw "$img" "$mnt"
fi
mkdir "$mnt/exercise"
python3 "$here/data-exerciser.py" "$mnt/exercise" "$seed" "$ops"
python3 "$here/fill.py" "$mnt"
umount "$mnt"
