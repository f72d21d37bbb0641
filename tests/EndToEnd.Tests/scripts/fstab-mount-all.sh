#!/bin/bash
# Runs inside a private mount namespace, with a private fstab bind-mounted over /etc/fstab:
# the boot-time path. "mount -a" mounts a safe.ext4 line whose options carry what fstab(5) lines
# carry (nofail, x-systemd.automount, a double-quoted comment= value with a comma), skips a
# nofail line whose source does not exist, and is idempotent; "umount -a -t fuseblk.safe.ext4"
# (the type in mountinfo) unmounts it again. Prints KEY=VALUE lines for the test to check.
# Usage: fstab-mount-all.sh IMG WORKDIR HELPERDIR FILE
set -uo pipefail
img=$1; work=$2; helperdir=$3; file=$4
cleanup() {
    umount "$work/a" 2>/dev/null
    umount "$work/missing" 2>/dev/null
    umount /etc/fstab 2>/dev/null
    umount /usr/sbin 2>/dev/null
    true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin || exit 10
mkdir -p "$work/a" "$work/missing"
{
    printf '%s %s safe.ext4 ro,nofail,x-systemd.automount,comment="a,b" 0 0\n' "$img" "$work/a"
    printf '%s %s safe.ext4 ro,nofail 0 0\n' "$work/no-such-image" "$work/missing"
} > "$work/fstab"
mount --bind "$work/fstab" /etc/fstab || exit 11

count() { awk -v m="$1" '$5 == m' /proc/self/mountinfo | wc -l; }

mount -a -t safe.ext4
echo "mount-all-exit=$?"
echo "mounted-a=$(count "$work/a")"
echo "mounted-missing=$(count "$work/missing")"
echo "read=$(head -c 65536 "$work/a/$file" | wc -c)"
mount -a -t safe.ext4
echo "mount-all-again-exit=$?"
echo "mounted-a-again=$(count "$work/a")"
umount -a -t fuseblk.safe.ext4
echo "umount-all-exit=$?"
echo "mounted-a-after=$(count "$work/a")"
