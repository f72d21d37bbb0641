#!/bin/bash
# Runs inside a private mount namespace: an unknown option through mount(8) is refused with the
# service's reason (exit 32); with -s (sloppy, which mount(8) passes on to the helper) it is
# dropped with a warning and the mount succeeds. Prints KEY=VALUE lines; stderr is the helper's.
# Usage: unknown-options.sh IMG MNT HELPERDIR
set -uo pipefail
img=$1; mnt=$2; helperdir=$3
cleanup() {
    umount "$mnt" 2>/dev/null
    umount /usr/sbin 2>/dev/null
    true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin || exit 10
mkdir -p "$mnt"
count() { awk -v m="$mnt" '$5 == m' /proc/self/mountinfo | wc -l; }
mount -t safe.ext4 -o ro,bogus=1 "$img" "$mnt"
echo "strict-exit=$?"
echo "strict-mounted=$(count)"
echo "--- sloppy" >&2
mount -s -t safe.ext4 -o ro,bogus=1 "$img" "$mnt"
echo "sloppy-exit=$?"
echo "sloppy-mounted=$(count)"
umount "$mnt"
echo "umount-exit=$?"
