#!/bin/bash
# Runs inside a private mount namespace (unshare -m --propagation private): installs the .deb
# with apt, mounts an image through the installed helper and service, purges the package and
# checks that nothing of it is left. /usr, /etc and /var are overlays on a tmpfs and /run is a
# fresh tmpfs, so the machine's own package database and files are never changed: whatever
# happens, everything this script installed disappears with the namespace.
# Usage: deb-install-mount.sh DEB WORKDIR     (prints "deb test: ok" last on success)
set -euo pipefail
deb=$(realpath "$1")
work=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

mount -t tmpfs -o mode=0700 safemount-deb-test "$work/ov"
for d in usr etc var; do
    mkdir -p "$work/ov/$d/upper" "$work/ov/$d/work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/ov/$d/upper,workdir=$work/ov/$d/work" "/$d"
done
mount -t tmpfs -o mode=0755 run /run
mkdir -p /run/lock

helper=/usr/sbin/mount.safe.ext4
service=/usr/libexec/safemount/safemount-ext4
files=("$helper" "$service"
    /usr/lib/systemd/system/safemount-ext4.socket /usr/lib/systemd/system/safemount-ext4@.service
    /usr/lib/systemd/system-preset/80-safemount.preset
    /usr/share/man/man8/mount.safe.ext4.8.gz /usr/share/man/man8/safemount-ext4.8.gz
    /usr/share/doc/safemount/README.md /usr/share/doc/safemount/PROTOCOL.md)
leftovers=(/usr/libexec/safemount /usr/share/doc/safemount /run/safemount
    /etc/systemd/system/sockets.target.wants/safemount-ext4.socket /etc/systemd/system/safemount-ext4.socket
    /var/lib/systemd/deb-systemd-helper-enabled/safemount-ext4.socket.dsh-also
    /var/lib/systemd/deb-systemd-helper-enabled/sockets.target.wants/safemount-ext4.socket
    /var/lib/systemd/deb-systemd-helper-masked/safemount-ext4.socket)

# A `make install` on this machine put unowned copies at the same paths: hide them in the
# overlay, so that what is found after the install can only come from the package.
if dpkg-query -W safemount >/dev/null 2>&1; then fail "safemount is installed as a package on this machine"; fi
for f in "${files[@]}" "${leftovers[@]}"; do rm -rf "$f"; done

DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" > "$work/apt-install.log" 2>&1 ||
    { cat "$work/apt-install.log" >&2; fail "apt-get install $deb"; }
[ "$(dpkg-query -W -f '${Status}' safemount)" = "install ok installed" ] || fail "dpkg does not list safemount as installed"
for f in "${files[@]}"; do
    dpkg -S "$f" >/dev/null || fail "$f is not owned by the package"
    [ -f "$f" ] || fail "$f is missing"
done
[ -x "$helper" ] && [ -x "$service" ] || fail "binaries are not executable"
grep -qx "ExecStart=$service" /usr/lib/systemd/system/safemount-ext4@.service || fail "ExecStart does not name $service"
if readelf -d "$helper" "$service" | grep -q 'R.*PATH'; then fail "an installed binary keeps an RPATH/RUNPATH"; fi
[ "$(man -w mount.safe.ext4)" = /usr/share/man/man8/mount.safe.ext4.8.gz ] || fail "man -w mount.safe.ext4"
[ "$(man -w safemount-ext4)" = /usr/share/man/man8/safemount-ext4.8.gz ] || fail "man -w safemount-ext4"
# postinst enabled the socket (the preset's intent) the Debian way, with deb-systemd-helper.
[ "$(readlink /etc/systemd/system/sockets.target.wants/safemount-ext4.socket)" = /lib/systemd/system/safemount-ext4.socket ] ||
    [ "$(readlink /etc/systemd/system/sockets.target.wants/safemount-ext4.socket)" = /usr/lib/systemd/system/safemount-ext4.socket ] ||
    fail "postinst did not enable safemount-ext4.socket"
systemd-analyze verify /usr/lib/systemd/system/safemount-ext4.socket /usr/lib/systemd/system/safemount-ext4@.service ||
    fail "systemd-analyze verify of the installed units"

# A real mount: `mount -t safe.ext4` finds the installed helper in /usr/sbin, which connects to
# the default socket path; the installed service is started per connection by the real
# socket-activation protocol (PID 1 here is not systemd, so systemd-socket-activate stands in
# for safemount-ext4.socket, with the same path, type and Accept=yes).
mkdir -p "$work/tree/dir" "$work/mnt"
echo "installed package, real mount" > "$work/tree/dir/hello.txt"
mkfs.ext4 -q -F -d "$work/tree" "$work/image" 8M >/dev/null
mkdir -m 0755 /run/safemount
setsid systemd-socket-activate --seqpacket --accept -l /run/safemount/ext4.sock "$service" >> "$work/service.log" 2>&1 &
activator=$!
stop_activator() {
    kill -TERM "$activator" 2>/dev/null || true
    wait "$activator" 2>/dev/null || true
    # What RemoveOnStop=yes does when systemd stops the socket.
    rm -f /run/safemount/ext4.sock
}
trap 'umount "$work/mnt" 2>/dev/null || true; stop_activator' EXIT
for _ in $(seq 100); do [ -S /run/safemount/ext4.sock ] && break; sleep 0.05; done
[ -S /run/safemount/ext4.sock ] || fail "systemd-socket-activate did not listen"
env -u SAFEMOUNT_SOCKET mount -t safe.ext4 -o ro "$work/image" "$work/mnt" || fail "mount -t safe.ext4 (service log: $(cat "$work/service.log"))"
[ "$(findmnt -n -o FSTYPE "$work/mnt")" = fuseblk.safe.ext4 ] || fail "not a fuseblk.safe.ext4 mount: $(findmnt -n "$work/mnt")"
cmp "$work/tree/dir/hello.txt" "$work/mnt/dir/hello.txt" || fail "file content differs"
served=0
for p in $(pgrep -f "^$service" || true); do
    [ "$(readlink "/proc/$p/exe")" = "$service" ] && served=1
done
[ $served = 1 ] || fail "no process runs the installed $service"
umount "$work/mnt"
for _ in $(seq 200); do pgrep -f "^$service" >/dev/null || break; sleep 0.05; done
if pgrep -f "^$service" >/dev/null; then fail "the service did not exit after umount"; fi
timeout 120 e2fsck -fn "$work/image" > "$work/e2fsck.log" 2>&1 || { cat "$work/e2fsck.log" >&2; fail "e2fsck -fn"; }
stop_activator
trap - EXIT

DEBIAN_FRONTEND=noninteractive apt-get purge -y -q safemount > "$work/apt-purge.log" 2>&1 ||
    { cat "$work/apt-purge.log" >&2; fail "apt-get purge safemount"; }
if dpkg-query -W -f '${Status}' safemount 2>/dev/null | grep -q installed; then fail "safemount still installed after purge"; fi
for f in "${files[@]}" "${leftovers[@]}"; do
    if [ -e "$f" ] || [ -L "$f" ]; then fail "$f is left after purge"; fi
done
if grep -rqs safemount /etc/systemd /var/lib/systemd; then fail "systemd state mentions safemount after purge: $(grep -rls safemount /etc/systemd /var/lib/systemd)"; fi
echo "deb test: ok"
