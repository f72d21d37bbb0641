#!/bin/bash
# Probe for mount-probe.sh: reads every file of the mount (so that the FUSE workers and the GC
# run), then reports the confinement of the one running SERVICE process from /proc (proc(5)):
#   status-KEY=VALUE   Uid, Gid, Cap*, NoNewPrivs, Seccomp of the process (its main thread)
#   task=TID name=COMM CapEff=.. CapPrm=.. CapAmb=.. CapBnd=.. NoNewPrivs=.. Seccomp=..
#   fd=N TARGET        every open descriptor and its /proc/PID/fd link
#   limit-NAME=SOFT HARD   from /proc/PID/limits
# Usage: sandbox-status.sh MNT SERVICE
set -euo pipefail
mnt=$1
service=$2
find "$mnt" -type f -exec cat {} + > /dev/null
pid=""
for d in /proc/[0-9]*; do
    if [ "$(readlink "$d/exe" 2>/dev/null)" = "$service" ]; then
        pid=${d#/proc/}
    fi
done
[ -n "$pid" ] || { echo "no running $service" >&2; exit 3; }
echo "pid=$pid"
while IFS=$'\t' read -r k v _; do
    case $k in
        Uid:|Gid:|CapInh:|CapPrm:|CapEff:|CapBnd:|CapAmb:|NoNewPrivs:|Seccomp:|Threads:) echo "status-${k%:}=$v" ;;
    esac
done < "/proc/$pid/status"
# Uid/Gid carry four tab-separated ids; print them whole too.
echo "status-Uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")"
for t in /proc/$pid/task/*; do
    line="task=${t##*/} name=$(tr ' ' '_' < "$t/comm")"
    for k in CapEff CapPrm CapAmb CapBnd NoNewPrivs Seccomp; do
        line="$line $k=$(awk -v k="$k:" '$1 == k {print $2}' "$t/status")"
    done
    echo "$line"
done
for f in /proc/$pid/fd/*; do
    echo "fd=${f##*/} $(readlink "$f")"
done
awk '/^Max open files/ {print "limit-nofile=" $4 " " $5} /^Max processes/ {print "limit-nproc=" $3 " " $4} /^Max core file size/ {print "limit-core=" $5 " " $6}' "/proc/$pid/limits"
