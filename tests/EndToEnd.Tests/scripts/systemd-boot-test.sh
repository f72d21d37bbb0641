#!/bin/bash
# Boots the host's own OS under a real systemd (systemd-nspawn -b, TESTING.md "Real systemd")
# and runs systemd-inside.sh there as systemd-safemount-test.service. The payload is a
# `make install DESTDIR=WORK/test/stage PREFIX=/usr` tree (the real units, ExecStart substituted by
# make) and IMG attached read-write to a loop device on the host (case (a) writes through a
# .mount unit), bound into the container under the same name. The container's console goes to WORK/console.log, the results to
# WORK/results/results. Exit status: the container's, i.e. the test unit's.
# Usage: systemd-boot-test.sh REPO OUT IMG FILE WORK
set -uo pipefail
repo=$1; out=$2; img=$3; file=$4; work=$5
here=$(cd "$(dirname "$0")" && pwd)
loop=""
cleanup() {
    [ -n "$loop" ] && losetup -d "$loop"
    true
}
trap cleanup EXIT

make --no-print-directory -C "$repo" OUT="$out" DESTDIR="$work/test/stage" PREFIX=/usr install >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; exit 20; }
loop=$(losetup --find --show "$img") || exit 21
mkdir -p "$work/results" "$work/test"
printf 'LOOP=%s\nIMAGE=/safemount-image.ext4\nFILE=%s\n' "$loop" "$file" > "$work/results/params"
# The payload lives at /safemount-test: stage/ (the install tree) and scripts/.
mkdir -p "$work/test/scripts"
cp "$here/systemd-inside.sh" "$work/test/scripts/"

# /dev/autofs: systemd treats automount units as unsupported where it is missing (a container's
# /dev has none). Every loop device node the host has, so that the helper's LOOP_CTL_GET_FREE answer exists in
# the container's private /dev too.
loops=$(for d in /dev/loop[0-9]*; do printf -- '--bind=%s ' "$d"; done)
# PID 1 of the host is not systemd: nothing to register with (--register=no --keep-unit), and a
# private /run. --system-call-filter=bpf lets the units' DevicePolicy=/IPAddressDeny= (BPF)
# take effect, and the Landlock calls (nspawn's own filter denies them) let the service enter
# its Landlock domain as on a host; --volatile=yes gives a throw-away root with the host's /usr
# read-only.
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 timeout -k 10 80 unshare -m --propagation private sh -c '
    mount -t tmpfs tmpfs /run &&
    exec systemd-nspawn $1 -D / --volatile=yes -b --register=no --keep-unit --console=read-only \
        --private-network --system-call-filter="bpf landlock_create_ruleset landlock_restrict_self" \
        --bind=/dev/fuse --bind=/dev/loop-control --bind=/dev/autofs \
        --bind-ro="$4:/safemount-image.ext4" \
        --bind-ro="$2/test:/safemount-test" \
        --bind="$2/results:/safemount-results" \
        --bind-ro="$3:/etc/systemd/system/systemd-safemount-test.service" \
        systemd.firstboot=off systemd.wants=systemd-safemount-test.service' \
    sh "$loops" "$work" "$here/../systemd/systemd-safemount-test.service" "$img" >"$work/console.log" 2>&1
rc=$?
echo "container-exit=$rc"
exit $rc
