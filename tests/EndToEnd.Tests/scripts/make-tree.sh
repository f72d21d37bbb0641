#!/bin/bash
# Populates DIR with the end-to-end example tree: the file sizes, sparse file, big directory,
# deep path, long names, symlinks, hard links, special files, xattrs and ACLs that the
# read-side tests compare between the kernel's ext4 and safe.ext4. Content is pseudo-random
# but fixed by SEED, so every run builds the same tree.
# Usage: make-tree.sh DIR [SEED] [BIGDIR_ENTRIES] [SPARSE_5G=1]
set -euo pipefail
dir=$1
seed=${2:-42}
bigdir_entries=${3:-20000}
sparse_5g=${4:-1}
mkdir -p "$dir"
cd "$dir"

rand() { # rand BYTES: deterministic bytes derived from the seed and the size
    python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(sys.argv[1]).randbytes(int(sys.argv[2])))' "$seed-$1" "$1"
}

mkdir files
for n in 0 1 4095 4096 4097 65536 1048577; do rand "$n" > "files/size-$n"; done
# A file of several megabytes, for the multi-request read path.
rand 9437184 > files/nine-mib

# Sparse: 5 GiB with data at the start, in the middle (across the 4 GiB boundary) and at the end.
if [ "$sparse_5g" = 1 ]; then
    truncate -s 5G files/sparse-5g
    rand 8192 | dd of=files/sparse-5g bs=4096 seek=0 conv=notrunc status=none
    rand 12288 | dd of=files/sparse-5g bs=4096 seek=$(( (4 << 30) / 4096 - 1 )) conv=notrunc status=none
    rand 100 | dd of=files/sparse-5g bs=1 seek=$(( (5 << 30) - 100 )) conv=notrunc status=none
fi
# Fragmented: one block of data every other block, so the file has many extents.
: > files/fragmented
for i in $(seq 0 2 3000); do printf 'block %06d\n' "$i" | dd of=files/fragmented bs=4096 seek="$i" conv=notrunc status=none; done

# A directory big enough to need an htree index.
mkdir big
( cd big && seq -f "entry-%06g-with-a-longer-name" 1 "$bigdir_entries" | xargs touch )

# A deep path.
deep=deep
for i in $(seq 1 40); do deep="$deep/level-$i"; done
mkdir -p "$deep"
echo "bottom of the deep path" > "$deep/leaf"

# Names of the maximum length (255 bytes), ASCII and multi-byte UTF-8.
mkdir names
long=$(printf 'n%.0s' $(seq 1 255))
echo long > "names/$long"
utf=$(printf 'é%.0s' $(seq 1 127))x
echo utf > "names/$utf"
echo spaces > "names/with spaces and	tab"

# Symlinks: fast (10 bytes, in the inode) and slow (300 bytes, in a block).
mkdir links
ln -s 0123456789 links/fast-10
ln -s "$(printf 'x%.0s' $(seq 1 300))" links/slow-300
ln -s ../files/size-4096 links/to-file
ln -s /nonexistent/target links/dangling
# Hard links.
echo "shared by three names" > links/hard-a
ln links/hard-a links/hard-b
ln links/hard-a files/hard-c

# Special files.
mkdir special
mkfifo special/fifo
mknod special/char-null c 1 3
mknod special/block-loop b 7 200
mknod special/char-big c 300 70000
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" special/socket

# Extended attributes in every namespace the issue names, an inline one and a big one
# (which spills into an external xattr block), and POSIX ACLs.
mkdir xattrs
echo data > xattrs/file
setfattr -n user.small -v hello xattrs/file
setfattr -n user.binary -v 0x00ff10 xattrs/file
setfattr -n trusted.secret -v "for root" xattrs/file
setfattr -n security.label -v "system_u:object_r:x" xattrs/file
setfattr -n user.big -v "$(printf 'v%.0s' $(seq 1 800))" xattrs/file
echo acl > xattrs/acl-file
setfacl -m u:1000:rw,g:100:r xattrs/acl-file
mkdir xattrs/acl-dir
setfacl -d -m u:1000:rwx xattrs/acl-dir
setfattr -n user.on-dir -v yes xattrs
setfattr -h -n trusted.on-link -v yes links/fast-10 2>/dev/null || true

# Owners and modes.
mkdir owners
echo a > owners/alice; chown 1000:1000 owners/alice; chmod 0640 owners/alice
echo b > owners/high-ids; chown 70000:80000 owners/high-ids
echo s > owners/setuid; chmod 4755 owners/setuid
mkdir owners/sticky; chmod 1777 owners/sticky

# Fixed, distinct timestamps with nanoseconds, including before 1970 and after 2038.
touch -h -d '2001-02-03 04:05:06.123456789' files/size-1
touch -h -d '1965-05-06 07:08:09.5' files/size-0
touch -h -d '2100-01-01 00:00:00.999999999' files/size-4095

# Preallocated space: unwritten extents (read as zeros), one block written in the middle, and
# blocks preallocated past end of file (fallocate --keep-size). Where the tree is copied by
# mkfs.ext4 -d these become plain data or holes; where the kernel writes the tree they stay
# unwritten extents.
mkdir prealloc
# ext2/ext3 (block maps) cannot preallocate: a sparse file stands in there.
fallocate -l 4M prealloc/unwritten 2>/dev/null || truncate -s 4M prealloc/unwritten
rand 4096 | dd of=prealloc/unwritten bs=4096 seek=300 conv=notrunc status=none
rand 5000 > prealloc/keep-size
fallocate --keep-size --offset 0 --length 1M prealloc/keep-size 2>/dev/null || true
