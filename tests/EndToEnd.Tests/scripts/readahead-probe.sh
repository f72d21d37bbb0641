#!/bin/bash
# Runs inside a private mount namespace. Attaches IMG to a loop device itself, sets the disk's
# read_ahead_kb to RA, mounts the device (or, for MODE partition, the image's first partition)
# with `mount -v -t safe.ext4`, and prints:
#   device_ra=KIB      the disk's queue/read_ahead_kb
#   fuse_ra=KIB        read_ahead_kb of the mount's own bdi (MAJ:MIN-fuseblk, MAJ:MIN from
#                      mountpoint -d, i.e. the superblock's s_dev)
#   hash=SHA256        of /payload read cold through the mount (page cache dropped first)
# and the helper's -v output. MODE rosys remounts /sys read-only in this namespace before the
# mount, so the helper cannot write sysfs.
# For MODE partition the file system lies at sector START (512-byte sectors) for SECTORS sectors.
# Usage: readahead-probe.sh MODE(device|partition|rosys) IMG MNT HELPERDIR RA [START SECTORS]
set -euo pipefail
mode=$1
img=$2
mnt=$3
helperdir=$4
ra=$5
start=${6:-}
sectors=${7:-}
mkdir -p "$mnt"
loop=
cleanup() {
    umount "$mnt" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
    [ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$helperdir:/usr/sbin" /usr/sbin
if [ "$mode" = partition ]; then
    # The partition is added with BLKPG (addpart), not found by a partition-table parser: this
    # kernel may have none built in; the kernel treats both kinds alike afterwards.
    loop=$(losetup -f --show -P "$img")
    addpart "$loop" 1 "$start" "$sectors"
    source=${loop}p1
    for _ in $(seq 50); do [ -b "$source" ] && break; sleep 0.1; done
else
    loop=$(losetup -f --show "$img")
    source=$loop
fi
disk=$(basename "$loop")
echo "$ra" > "/sys/block/$disk/queue/read_ahead_kb"
echo "device_ra=$(cat "/sys/block/$disk/queue/read_ahead_kb")"
if [ "$mode" = rosys ]; then
    mount -o bind,remount,ro /sys
fi
mount -v -t safe.ext4 -o rw "$source" "$mnt"
echo "fuse_ra=$(cat "/sys/class/bdi/$(mountpoint -d "$mnt")-fuseblk/read_ahead_kb")"
sync
echo 3 > /proc/sys/vm/drop_caches
echo "hash=$(sha256sum < "$mnt/payload" | cut -d' ' -f1)"
umount "$mnt"
