#!/bin/bash
# Runs inside the systemd-nspawn container as systemd-safemount-test.service (see
# systemd-boot-test.sh). Installs the staged `make install` tree over the host's read-only /usr
# with overlays, enables the real units, then mounts one image twice through systemd: (a) a .mount
# unit started with systemctl, (b) an /etc/fstab line with x-systemd.automount,nofail turned into
# units by systemd-fstab-generator(8) and triggered by an access. While each mount is up it reads
# the confined service's identity, capabilities and seccomp mode from /proc/PID/status
# (proc(5)); after each stop it checks that the per-connection service instance is gone.
# Then (c) with the socket unit disabled: a plain `mount -t safe.ext4` makes the helper start the
# service as a transient unit over D-Bus, whose settings must match the template's.
# Every result is a KEY=VALUE line in /safemount-results/results; the test on the host judges them.
set -u
results=/safemount-results/results
# shellcheck source=/dev/null
. /safemount-results/params   # LOOP (the image's loop device), IMAGE (the image file), FILE (path in it)
rec() { echo "$1=$2" >> "$results"; }
: > "$results"

# DynamicUser=yes allocates from 61184..65519 (systemd.exec(5), "DynamicUser=").
probe_service() {
    local p=$1 pattern=${2:-'safemount-ext4@*.service'} units unit pid status
    units=$(systemctl list-units --plain --no-legend --state=active "$pattern" | cut -d' ' -f1)
    rec "$p-instances" "$(echo "$units" | grep -c .)"
    unit=$(echo "$units" | head -n1)
    pid=$(systemctl show -P MainPID "$unit")
    rec "$p-service-pid-nonzero" "$([ "${pid:-0}" -gt 0 ] && echo yes || echo no)"
    rec "$p-service-exe" "$(readlink "/proc/$pid/exe")"
    status=/proc/$pid/status
    # No awk: under --volatile=yes /etc/alternatives (hence /usr/bin/awk) is missing.
    while IFS=$'\t' read -r k v; do
        case $k in
            Uid:|Gid:) rec "$p-${k%:}" "$(echo "$v" | tr -s '\t ' ',,')" ;;
            CapInh:|CapPrm:|CapEff:|CapBnd:|CapAmb:|NoNewPrivs:|Seccomp:|Seccomp_filters:) rec "$p-${k%:}" "$v" ;;
        esac
    done < "$status"
}

# Waits until no safemount-ext4@ instance (or units matching $2) is loaded
# (CollectMode=inactive-or-failed unloads it).
wait_instances_gone() {
    local i n pattern=${2:-'safemount-ext4@*.service'}
    for i in $(seq 1 100); do
        n=$(systemctl list-units --plain --no-legend --all "$pattern" | grep -c .)
        [ "$n" -eq 0 ] && break
        sleep 0.1
    done
    rec "$1-instances-after-stop" "$n"
}

# Install: the host's /usr is bound read-only; an overlay puts the staged files in front of it
# where mount(8) looks for helpers (/sbin = /usr/sbin, mount(8) "EXTERNAL HELPERS") and where
# the unit's ExecStart points.
mount -t overlay overlay -o lowerdir=/safemount-test/stage/usr/sbin:/usr/sbin /usr/sbin || exit 10
mount -t overlay overlay -o lowerdir=/safemount-test/stage/usr/libexec:/usr/libexec /usr/libexec || exit 11
rec helper-is-staged "$(cmp -s /usr/sbin/mount.safe.ext4 /safemount-test/stage/usr/sbin/mount.safe.ext4 && echo yes || echo no)"
rec service-is-staged "$(cmp -s /usr/libexec/safemount/safemount-ext4 /safemount-test/stage/usr/libexec/safemount/safemount-ext4 && echo yes || echo no)"
cp /safemount-test/stage/usr/lib/systemd/system/safemount-ext4.socket \
   /safemount-test/stage/usr/lib/systemd/system/safemount-ext4@.service /etc/systemd/system/ || exit 12
systemctl daemon-reload
systemctl enable --now safemount-ext4.socket
rec socket-enable-exit $?
rec socket-active "$(systemctl is-active safemount-ext4.socket)"
rec socket-path "$(stat -c %F "/run/safemount/ext4.sock" 2>&1)"

# (a) a mount unit (systemd.mount(5)); its name must be the escaped Where=.
mkdir -p /mnt/unit
cat > /etc/systemd/system/mnt-unit.mount <<UNIT
[Unit]
Description=safemount test mount unit
[Mount]
What=$LOOP
Where=/mnt/unit
Type=safe.ext4
Options=rw
UNIT
systemctl daemon-reload
systemctl start mnt-unit.mount
rec a-start-exit $?
rec a-active "$(systemctl is-active mnt-unit.mount)"
rec a-fstype "$(findmnt -n -o FSTYPE /mnt/unit)"
rec a-source "$(findmnt -n -o SOURCE /mnt/unit)"
rec a-sha256 "$(sha256sum "/mnt/unit/$FILE" | cut -d' ' -f1)"
# Read-write through the confined service: a new file, read back after a drop of the page cache.
rec a-options "$(findmnt -n -o OPTIONS /mnt/unit | cut -d, -f1)"
head -c 300000 /dev/urandom > /tmp/a-written
cp /tmp/a-written /mnt/unit/written-by-systemd-test && sync -f /mnt/unit/written-by-systemd-test
rec a-cp-exit $?
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null
rec a-written-sha256 "$(sha256sum /tmp/a-written | cut -d' ' -f1)"
rec a-readback-sha256 "$(sha256sum /mnt/unit/written-by-systemd-test | cut -d' ' -f1)"
probe_service a
systemctl stop mnt-unit.mount
rec a-stop-exit $?
rec a-mounted-after-stop "$(findmnt -n /mnt/unit | grep -c .)"
e2fsck -fn "$LOOP" > /tmp/a-fsck.out 2>&1
rec a-fsck-exit $?
rec a-fsck-readback-sha256 "$(debugfs -R 'cat /written-by-systemd-test' "$LOOP" 2>/dev/null | sha256sum | cut -d' ' -f1)"
wait_instances_gone a

# (b) /etc/fstab through systemd-fstab-generator: x-systemd.automount makes mnt-auto.automount,
# the first access starts mnt-auto.mount (systemd.mount(5), "FSTAB"). In a container the generator
# ignores fstab lines whose source is under /dev ("Running in a container, ignoring fstab device
# entry"), so this line names the image file and the helper attaches the loop device itself.
mkdir -p /mnt/auto
echo "$IMAGE /mnt/auto safe.ext4 ro,nofail,x-systemd.automount 0 0" >> /etc/fstab
systemctl daemon-reload
rec b-generated "$(systemctl show -P SourcePath mnt-auto.mount)"
systemctl start mnt-auto.automount
rec b-automount-active "$(systemctl is-active mnt-auto.automount)"
rec b-mount-before-access "$(systemctl is-active mnt-auto.mount)"
rec b-sha256 "$(sha256sum "/mnt/auto/$FILE" | cut -d' ' -f1)"
rec b-mount-after-access "$(systemctl is-active mnt-auto.mount)"
rec b-fstype "$(findmnt -n -o FSTYPE /mnt/auto | tail -n1)"
probe_service b
systemctl stop mnt-auto.automount mnt-auto.mount
rec b-stop-exit $?
rec b-mounted-after-stop "$(findmnt -n /mnt/auto | grep -c .)"
wait_instances_gone b

# (c) no socket unit: the helper finds no socket and starts the service as a transient unit
# through systemd's D-Bus API (org.freedesktop.systemd1.Manager.StartTransientUnit) with the
# template's hardening. Every setting of the template ([Unit] and [Service], minus the three the
# transient unit replaces) must read back the same from `systemctl show` for both units.
systemctl disable --now safemount-ext4.socket
rec c-socket-gone "$([ -e /run/safemount/ext4.sock ] && echo no || echo yes)"
mkdir -p /mnt/transient
mount -t safe.ext4 -o ro -v "$LOOP" /mnt/transient > /tmp/c-mount.out 2>&1
rec c-mount-exit $?
cat /tmp/c-mount.out
rec c-launcher "$(grep -o 'launcher: [a-z ]*' /tmp/c-mount.out | head -n1)"
rec c-fstype "$(findmnt -n -o FSTYPE /mnt/transient)"
rec c-sha256 "$(sha256sum "/mnt/transient/$FILE" | cut -d' ' -f1)"
probe_service c 'safemount-ext4-*.service'
transient=$(systemctl list-units --plain --no-legend --state=active 'safemount-ext4-*.service' | cut -d' ' -f1 | head -n1)
rec c-transient "$(systemctl show -P Transient "$transient")"
template=/etc/systemd/system/safemount-ext4@.service
props=$(grep -E '^[A-Za-z]+=' "$template" | cut -d= -f1 | grep -vxE 'Description|ExecStart|StandardInput' | sort -u | sed 's/^/-p /' | tr '\n' ' ')
# List values are sets (SystemCallFilter=, CapabilityBoundingSet=, RestrictAddressFamilies=, ...):
# their words are compared sorted, so only content counts, not the order systemctl prints. The
# differing lines go into the results (c-props-diff) so a failure names them.
props_of() {
    local key value
    # shellcheck disable=SC2086
    systemctl show $props "$1" | while IFS='=' read -r key value; do
        echo "$key=$(echo "$value" | tr ' ' '\n' | sort | tr '\n' ' ')"
    done | sort
}
props_of "$transient" > /tmp/c-transient.props
props_of safemount-ext4@probe.service > /tmp/c-template.props
rec c-props-compared "$(grep -c . /tmp/c-template.props)"
rec c-props-differing "$(diff /tmp/c-template.props /tmp/c-transient.props | grep -c '^[<>]')"
rec c-props-diff "$(diff /tmp/c-template.props /tmp/c-transient.props | grep '^[<>]' | tr '\n' '|')"
diff /tmp/c-template.props /tmp/c-transient.props
umount /mnt/transient
rec c-umount-exit $?
rec c-mounted-after-stop "$(findmnt -n /mnt/transient | grep -c .)"
wait_instances_gone c 'safemount-ext4-*.service'

echo "--- journal of the safemount units ---"
journalctl --no-pager -o short-monotonic -u safemount-ext4.socket -u 'safemount-ext4@*' -u 'safemount-ext4-*' -u mnt-unit.mount -u mnt-auto.mount -u mnt-auto.automount
rec done yes
exit 0
