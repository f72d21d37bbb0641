#!/bin/bash
# Prints, for each PATH under ROOT, its link count, inode number, size and type as lstat(2)
# reports them, and for directories the number of readdir entries ("." and ".." included).
# The paths are looked up first, before any readdir fills the dentry cache.
# Usage: stat-probe.sh ROOT PATH...
set -euo pipefail
cd "$1"
shift
for p in "$@"; do stat -c '%h %i %s %F %n' -- "$p"; done
for p in "$@"; do
    if [ -d "$p" ]; then echo "$p entries=$(ls -fa -- "$p" | wc -l)"; fi
done
