#!/bin/bash
# Runs permission probes as uid 1234 (and gid 2345 where named) against the tree of
# make-acl-tree.sh under ROOT and prints one line per probe: its name, exit status and error
# text. Paths are relative to ROOT (entered as root first), so the probes never need search
# permission on the directories above the mount.
# Usage: acl-probe.sh ROOT
set -uo pipefail
cd "$1/acl"
as() { # as UID GID COMMAND...: run as that user with no supplementary groups
    local uid=$1 gid=$2
    shift 2
    setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
}
probe() { # probe NAME UID GID COMMAND...
    local name=$1
    shift
    local err rc
    err=$(as "$@" 2>&1 >/dev/null)
    rc=$?
    echo "$name rc=$rc ${err//$'\n'/ | }"
}
probe read-user-allowed 1234 1234 cat user-allowed
probe read-user-denied 1234 1234 cat user-denied
probe read-user-denied-other-uid 1235 1235 cat user-denied
probe read-group-allowed 1234 2345 cat group-allowed
probe read-group-allowed-wrong-group 1234 1234 cat group-allowed
probe read-mask-denied 1234 1234 cat mask-denied
probe read-other-allowed 1234 1234 cat other-allowed
probe access-r-user-denied 1234 1234 test -r user-denied
probe access-r-user-allowed 1234 1234 test -r user-allowed
probe access-w-user-allowed 1234 1234 test -w user-allowed
probe write-user-allowed 1234 1234 sh -c 'echo x >> user-allowed'
probe traverse-dir-no-x 1234 1234 cat dir-no-x/file
probe list-dir-no-x 1234 1234 ls dir-no-x
probe access-x-dir-no-x 1234 1234 test -x dir-no-x
probe traverse-dir-x-only 1234 1234 cat dir-x-only/file
probe list-dir-x-only 1234 1234 ls dir-x-only
probe traverse-dir-default 1234 1234 cat dir-default/file
probe traverse-dir-default-sub 1234 1234 cat dir-default/sub/file
probe list-dir-default-sub 1234 1234 ls dir-default/sub
probe traverse-dir-default-other 1235 1235 cat dir-default/file
