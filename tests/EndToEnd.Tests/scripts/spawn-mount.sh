#!/bin/bash
# Runs inside `unshare -m --propagation private` (LaunchWithoutSocketTests): no socket at
# $SAFEMOUNT_SOCKET, so `mount -t safe.ext4` must make the helper spawn the service itself.
# Before mounting, fd 7 is opened on LEAK (without close-on-exec, as a careless caller of mount(8)
# would leave it): the spawned service must not inherit it. Prints KEY=VALUE lines.
# Usage: spawn-mount.sh HELPERDIR IMG DIR FILE LEAK
set -u
helperdir=$1; img=$2; dir=$3; file=$4; leak=$5
mount -t overlay overlay -o lowerdir="$helperdir":/usr/sbin /usr/sbin || exit 10
exec 7<"$leak"
mount -t safe.ext4 -o ro -v "$img" "$dir" > /tmp/spawn-mount.$$ 2>&1
echo "mount-exit=$?"
exec 7<&-
sed 's/^/helper: /' /tmp/spawn-mount.$$
echo "launcher=$(grep -o 'launcher: [a-z ]*' /tmp/spawn-mount.$$ | head -n1)"
pid=$(sed -n 's/.* directly as pid \([0-9]*\) .*/\1/p' /tmp/spawn-mount.$$ | head -n1)
rm -f /tmp/spawn-mount.$$
echo "fstype=$(findmnt -n -o FSTYPE "$dir")"
echo "sha256=$(sha256sum "$dir/$file" | cut -d' ' -f1)"
echo "pid=${pid:-none}"
if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
    # proc(5) /proc/PID/stat: field 4 ppid, 6 session (after the parenthesised comm).
    stat=$(sed 's/^.*) //' "/proc/$pid/stat")
    echo "state=$(echo "$stat" | cut -d' ' -f1)"
    echo "ppid=$(echo "$stat" | cut -d' ' -f2)"
    echo "session=$(echo "$stat" | cut -d' ' -f4)"
    echo "exe=$(readlink "/proc/$pid/exe")"
    echo "fd0=$(readlink "/proc/$pid/fd/0")"
    echo "fd1=$(readlink "/proc/$pid/fd/1")"
    echo "fd3=$(readlink "/proc/$pid/fd/3" | cut -d: -f1)"
    echo "leaked=$(for f in /proc/$pid/fd/*; do readlink "$f"; done | grep -cxF -e "$leak" -e "$img" -e "$dir")"
fi
umount "$dir"
echo "umount-exit=$?"
echo "mounted-after=$(findmnt -n "$dir" | grep -c .)"
# fuseblk: umount waited for DESTROY; the service then exits and, orphaned, is reaped by init.
gone=no
for _ in $(seq 1 200); do
    if [ -z "$pid" ] || [ ! -d "/proc/$pid" ]; then gone=yes; break; fi
    sleep 0.05
done
echo "service-gone=$gone"
[ "$gone" = yes ] || echo "state-after=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)"
