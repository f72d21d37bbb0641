#!/bin/bash
# Runs inside a private mount namespace: mounts IMG with `mount -t safe.ext4 -o ro` only (for
# images the kernel's ext4 here cannot mount, such as the project feature without CONFIG_QUOTA),
# runs `PROBE MOUNTDIR ARGS...` with its stdout as ours, and unmounts.
# Usage: mount-probe.sh IMG MNT HELPERDIR PROBE [ARGS...]
set -euo pipefail
img=$1
mnt=$2
helperdir=$3
shift 3
mkdir -p "$mnt"
cleanup() {
    umount "$mnt" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
mount -t safe.ext4 -o ro "$img" "$mnt"
"$1" "$mnt" "${@:2}"
umount "$mnt"
