#!/bin/bash
# Runs inside a private mount namespace: what mount(8) users do around a safe.ext4 mount.
# mount -v (helper's protocol steps on stderr), an explicit "mount -t safe.ext4 -o remount"
# (refused by the helper, the mount stays), a bind remount of per-mount flags (done by the
# kernel without the helper), umount (the service ends), and umount -l with a file still open
# (the mount leaves the tree at once; the service serves the open file until it is closed,
# then ends). Prints KEY=VALUE lines for the test to check.
# Usage: cli-behaviour.sh IMG MNT HELPERDIR SERVICE FILE
set -uo pipefail
img=$1
mnt=$2
helperdir=$3
service=$4
file=$5
mkdir -p "$mnt"
cleanup() {
    exec 3<&- 2>/dev/null
    umount "$mnt" 2>/dev/null
    umount /usr/sbin 2>/dev/null
    true
}
trap cleanup EXIT

services() {
    local n=0 e
    for e in /proc/[0-9]*/exe; do
        [ "$(readlink "$e" 2>/dev/null)" = "$service" ] && n=$((n + 1))
    done
    echo "$n"
}

wait_services_gone() {
    local i
    for i in $(seq 150); do
        [ "$(services)" = 0 ] && break
        sleep 0.1
    done
    services
}

mountinfo_line() { awk -v m="$mnt" '$5 == m' /proc/self/mountinfo; }

mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin || exit 10
mount -v -t safe.ext4 -o ro "$img" "$mnt"
echo "mount-exit=$?"

echo "--- remount" >&2
mount -t safe.ext4 -o remount,ro "$img" "$mnt"
echo "remount-exit=$?"
echo "still-readable=$(head -c 65536 "$mnt/$file" | wc -c)"

mount -o remount,bind,noexec "$mnt"
echo "bind-remount-exit=$?"
echo "mountinfo=$(mountinfo_line)"

umount "$mnt"
echo "umount-exit=$?"
echo "services-after-umount=$(wait_services_gone)"

mount -t safe.ext4 -o ro "$img" "$mnt"
echo "second-mount-exit=$?"
exec 3<"$mnt/$file"
umount "$mnt" 2>/dev/null
echo "busy-umount-exit=$?"
umount -l "$mnt"
echo "lazy-umount-exit=$?"
echo "mounted-after-lazy=$(mountinfo_line | wc -l)"
echo "read-after-lazy=$(head -c 65536 <&3 | wc -c)"
echo "services-while-open=$(services)"
exec 3<&-
echo "services-after-close=$(wait_services_gone)"
