#!/bin/bash
# Populates DIR with files and directories whose POSIX ACLs grant or deny uid 1234 / gid 2345
# what their mode bits alone would not, for acl-probe.sh to exercise through a mount.
# Usage: make-acl-tree.sh DIR
set -euo pipefail
d=$1
mkdir -p "$d/acl"
cd "$d/acl"
echo user-allowed > user-allowed; chmod 0600 user-allowed; setfacl -m u:1234:r user-allowed
echo user-denied > user-denied; chmod 0644 user-denied; setfacl -m u:1234:- user-denied
echo group-allowed > group-allowed; chmod 0600 group-allowed; setfacl -m g:2345:r group-allowed
echo mask-denied > mask-denied; chmod 0600 mask-denied; setfacl -m u:1234:rw,m::- mask-denied
echo other-allowed > other-allowed; chmod 0604 other-allowed
mkdir dir-no-x; echo inside > dir-no-x/file; chmod 0755 dir-no-x; setfacl -m u:1234:rw dir-no-x
mkdir dir-x-only; echo inside > dir-x-only/file; chmod 0700 dir-x-only; setfacl -m u:1234:x dir-x-only
mkdir dir-default; chmod 0700 dir-default; setfacl -m u:1234:rx -d -m u:1234:r,o::- dir-default
(umask 077; echo inherited > dir-default/file; mkdir dir-default/sub; echo deeper > dir-default/sub/file)
