#!/bin/bash
# Runs inside a private mount namespace. Mounts IMG two more ways and reads a file back each time:
#  1. from a block device: the image attached read-only with losetup, `mount -t safe.ext4 /dev/loopN DIR`;
#  2. from /etc/fstab: a private fstab (bind-mounted over /etc/fstab in this namespace only)
#     with a `safe.ext4` line, mounted with `mount DIR`.
# Usage: fstab-and-blockdev.sh IMG WORKDIR HELPERDIR FILE EXPECTED_SHA256
set -euo pipefail
img=$1; work=$2; helperdir=$3; file=$4; expected=$5
loop=
cleanup() {
    umount "$work/blk" 2>/dev/null || true
    umount "$work/tab" 2>/dev/null || true
    [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null || true
    umount /etc/fstab 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
mkdir -p "$work/blk" "$work/tab"

loop=$(losetup -f --show -r "$img")
mount -t safe.ext4 "$loop" "$work/blk"
grep " $work/blk " /proc/self/mountinfo | grep -q "fuseblk.safe.ext4 $loop "
got=$(sha256sum < "$work/blk/$file" | cut -d' ' -f1)
[ "$got" = "$expected" ] || { echo "block device: $file has sha256 $got, expected $expected" >&2; exit 1; }
umount "$work/blk"
echo "block-device ok"

printf '%s %s safe.ext4 ro,nofail,x-test=1 0 0\n' "$img" "$work/tab" > "$work/fstab"
mount --bind "$work/fstab" /etc/fstab
mount "$work/tab"
grep " $work/tab " /proc/self/mountinfo | grep -q "fuseblk.safe.ext4"
got=$(sha256sum < "$work/tab/$file" | cut -d' ' -f1)
[ "$got" = "$expected" ] || { echo "fstab: $file has sha256 $got, expected $expected" >&2; exit 1; }
umount "$work/tab"
echo "fstab ok"
