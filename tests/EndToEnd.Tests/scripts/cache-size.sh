#!/bin/bash
# Runs inside a private mount namespace: cache_size= through mount(8). A bad value is refused
# (exit 32, the helper prints the service's reason); the smallest budget (1m, 256 blocks of
# 4 KiB) serves a tree whose metadata is several times larger: NDIRS directories of 100 files
# are written, unmounted, mounted again with the same budget and read back (names and bytes).
# Prints KEY=VALUE lines; stderr is the helper's.
# Usage: cache-size.sh IMG MNT HELPERDIR NDIRS
set -uo pipefail
img=$1; mnt=$2; helperdir=$3; ndirs=$4
cleanup() {
    umount "$mnt" 2>/dev/null
    umount /usr/sbin 2>/dev/null
    true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin || exit 10
mkdir -p "$mnt"
count() { awk -v m="$mnt" '$5 == m' /proc/self/mountinfo | wc -l; }
mount -t safe.ext4 -o rw,cache_size=8x "$img" "$mnt"
echo "bad-exit=$?"
echo "bad-mounted=$(count)"
mount -t safe.ext4 -o rw,cache_size=1m "$img" "$mnt" || exit 11
root=$mnt/cache-size
mkdir "$root" || exit 12
for d in $(seq -w 1 "$ndirs"); do
    mkdir "$root/d$d" || exit 12
    for f in $(seq -w 1 100); do
        echo "file $d/$f" > "$root/d$d/f$f" || exit 13
    done
done
umount "$mnt" || exit 14
mount -t safe.ext4 -o ro,cache_size=1m "$img" "$mnt" || exit 15
echo "files=$(find "$root" -type f | wc -l)"
bad=0
for d in $(seq -w 1 "$ndirs"); do
    for f in $(seq -w 1 100); do
        [ "$(cat "$root/d$d/f$f")" = "file $d/$f" ] || bad=$((bad + 1))
    done
done
echo "mismatches=$bad"
umount "$mnt"
echo "umount-exit=$?"
