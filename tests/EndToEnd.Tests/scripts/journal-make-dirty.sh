#!/bin/bash
# Leaves IMG (an ext4 image made by mkfs) with a dirty journal: committed transactions that
# were never checkpointed, and needs_recovery set. Runs inside a private mount namespace
# (unshare -m --propagation private). The kernel mounts IMG rw at MNT with OPTS, make-tree.sh
# populates it, then further changes are committed with fsync only (a syncfs would
# checkpoint them): a directory is filled, committed and removed (its blocks are revoked),
# files are deleted, replaced and renamed. EXT4_IOC_SHUTDOWN with EXT4_GOING_FLAGS_LOGFLUSH
# (_IOR('X', 125, __u32) = 0x8004587D, flag 1) commits what is left and aborts the journal, so
# umount writes nothing more.
# Usage: journal-make-dirty.sh IMG MNT SEED BIGDIR_ENTRIES [OPTS]
set -euo pipefail
img=$1
mnt=$2
seed=$3
entries=$4
opts=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$mnt"
mount -o "loop${opts:+,$opts}" "$img" "$mnt"
trap 'umount "$mnt" 2>/dev/null || true' EXIT
"$here/make-tree.sh" "$mnt/tree" "$seed" "$entries" 0 > /dev/null
sync -f "$mnt"
mkdir "$mnt/doomed"
for i in $(seq 1 300); do echo "$i" > "$mnt/doomed/entry-with-a-long-name-$i"; done
sync "$mnt"
rm -r "$mnt/doomed"
sync "$mnt"
for i in $(seq 1 30); do head -c $((i * 1000)) /dev/urandom > "$mnt/late-$i"; sync "$mnt/late-$i"; done
for i in $(seq 1 10); do rm "$mnt/late-$i"; mv "$mnt/late-$((i + 10))" "$mnt/renamed-$i"; done
sync "$mnt"
python3 -c 'import fcntl, os, struct, sys; fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 1))' "$mnt/late-30"
umount "$mnt"
trap - EXIT
