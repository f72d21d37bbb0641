#!/bin/bash
# Makes COPY, an image whose newest changes exist only in its journal: the kernel mounts IMG
# (rw, loop) at MNT, writes a base tree and syncs the file system (so it is checkpointed on
# disk), then creates files and commits them with fsync only. Committed metadata reaches its
# home location only at checkpoint or writeback (tens of seconds later), so a copy of the image
# file taken now carries those files in the journal and nowhere else, with needs_recovery set.
# Runs inside a private mount namespace (unshare -m --propagation private).
# Usage: journal-copy-while-mounted.sh IMG MNT COPY
set -euo pipefail
img=$1
mnt=$2
copy=$3
mkdir -p "$mnt"
mount -o loop "$img" "$mnt"
trap 'umount "$mnt" 2>/dev/null || true' EXIT
mkdir "$mnt/base"
for i in $(seq 1 20); do echo "base $i" > "$mnt/base/file-$i"; done
sync -f "$mnt"
mkdir "$mnt/journal-only"
for i in $(seq 1 20); do echo "journal only $i" > "$mnt/journal-only/file-$i"; sync "$mnt/journal-only/file-$i"; done
rm "$mnt/base/file-1"
mv "$mnt/base/file-2" "$mnt/base/renamed-2"
sync "$mnt/base" "$mnt/journal-only" "$mnt"
cp --sparse=always "$img" "$copy"
