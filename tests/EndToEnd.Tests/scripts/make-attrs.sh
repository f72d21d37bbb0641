#!/bin/bash
# Populates DIR, which must be on a kernel ext4 mount (mkfs.ext4 -d copies neither inode flags
# nor values larger than the source file system allows), with what only the kernel writes
# here: inode flags set through chattr (FS_IOC_SETFLAGS), xattr values of 20 KiB to 64 KiB
# (EA inodes when the image has ea_inode), a value shared by two inodes, and POSIX ACLs.
# Flags that need CAP_SYS_RESOURCE (j), other file systems (C) or features this kernel lacks
# are left out; immutable and append-only are set last so that nothing after them fails.
# Usage: make-attrs.sh DIR
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"

setbig() { # setbig NAME SIZE SEED FILE: a SIZE-byte value fixed by SEED
    python3 -c 'import os,sys,random; os.setxattr(sys.argv[4], sys.argv[1], random.Random(sys.argv[3]).randbytes(int(sys.argv[2])))' "$@"
}

mkdir files dirs xattrs acls
for l in A c d s S t u x; do echo "flag $l" > "files/flag-$l"; chattr "+$l" "files/flag-$l"; done
echo "several" > files/several; chattr +AdS files/several
for l in D T P A d S; do mkdir "dirs/flag-$l"; chattr "+$l" "dirs/flag-$l"; done
echo child > dirs/flag-P/child
mkdir dirs/flag-P/subdir

echo big > xattrs/big
setbig user.v20000 20000 1 xattrs/big
setbig user.v65536 65536 2 xattrs/big
setbig trusted.t30000 30000 3 xattrs/big
setfattr -n user.small -v tiny xattrs/big
echo shared > xattrs/shares-a-value
setbig user.v20000 20000 1 xattrs/shares-a-value
mkdir xattrs/dir-with-big
setbig user.v40000 40000 4 xattrs/dir-with-big

echo acl > acls/file; setfacl -m u:1234:r,g:2345:rw,m::rw acls/file
mkdir acls/dir; setfacl -m u:1234:rx -d -m u:1234:r acls/dir
echo inherits > acls/dir/inherits
# 500 named users: 4020 bytes in ext4's ACL format, more than a 1 KiB block holds, so with
# ea_inode the ACL itself lives in an EA inode. (Not more: FUSE fetches ACLs into one page,
# fs/fuse/acl.c, so an ACL over 4096 bytes in xattr form, 507 named users, reads as E2BIG
# through any FUSE file system while the kernel's ext4 shows it.)
echo many > acls/many-entries; chmod 0600 acls/many-entries
python3 -c 'print("\n".join("u:%d:r" % (10000 + i) for i in range(500)))' | setfacl -M - acls/many-entries

echo immutable > files/flag-i; chattr +i files/flag-i
echo append > files/flag-a; chattr +a files/flag-a
mkdir dirs/flag-i; chattr +i dirs/flag-i
