#!/bin/bash
# Runs inside a private mount namespace: mounts IMG with `mount -t safe.ext4 -o rw`, prints the
# open flags of every fd the service (SERVICE, the binary under test) holds on the mount's loop
# device ("loopfd=FD flags=OCTAL", from /proc/PID/fdinfo), writes 16 MiB in 1 MiB blocks
# (aligned) and 12345 bytes (unaligned tail), fsyncs, prints "hash=NAME SHA256" of both files,
# and unmounts.
# Usage: direct-io-probe.sh IMG MNT HELPERDIR SERVICE
set -euo pipefail
img=$1
mnt=$2
helperdir=$3
service=$4
mkdir -p "$mnt"
cleanup() {
    umount "$mnt" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
mount -t safe.ext4 -o rw "$img" "$mnt"
loop=$(findmnt -no SOURCE "$mnt")
for exe in /proc/[0-9]*/exe; do
    [ "$(readlink "$exe" 2>/dev/null)" = "$service" ] || continue
    pid=${exe#/proc/}
    pid=${pid%/exe}
    for f in /proc/$pid/fd/*; do
        [ "$(readlink "$f" 2>/dev/null)" = "$loop" ] || continue
        echo "loopfd=${f##*/} flags=$(awk '$1 == "flags:" {print $2}' "/proc/$pid/fdinfo/${f##*/}")"
    done
done
src=$(mktemp)
head -c $((16 << 20)) /dev/urandom > "$src"
dd if="$src" of="$mnt/aligned" bs=1M conv=fsync status=none
rm "$src"
head -c 12345 /dev/urandom > "$mnt/small"
sync "$mnt/small"
for f in aligned small; do
    echo "hash=$f $(sha256sum < "$mnt/$f" | cut -d' ' -f1)"
done
umount "$mnt"
