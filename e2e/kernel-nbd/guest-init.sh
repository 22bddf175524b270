#!/bin/busybox sh
# /init of the kernel NBD guest (build-guest.sh). Kernel command line:
#   strata.port=PORT strata.export=NAME strata.mode=write|verify|crash|recover|restart strata.mib=N
#   [strata.flags=EXTRA,NBD-CLIENT,FLAGS] (restart only, commas for spaces)
# write:  attach the export with the kernel NBD client, mkfs.ext4, write N MiB of random data and
#         small files with their SHA-256 sums on the filesystem, write, delete and fstrim a 64 MiB
#         file, umount (the kernel flushes), detach, attach again, check every sum.
# verify: attach, e2fsck -fn, mount, check every sum.
# crash, recover: see below (the server is killed while "crash" writes).
# restart: see below (the server is killed and started again while the filesystem stays mounted).
# Every step prints "STRATA-STEP name" on the console; the end is "STRATA-DONE mode DIGEST" (the
# digest of the sums file) or "STRATA-FAIL step: reason". The host asserts on those lines.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

arg() { sed -n "s/.*strata\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
PORT="$(arg port)"; EXPORT="$(arg export)"; MODE="$(arg mode)"; MIB="$(arg mib)"
fail() { echo "STRATA-FAIL $1"; sync; poweroff -f; sleep 5; exit 1; }
step() { echo "STRATA-STEP $1"; }

for m in e1000 nbd crc16 mbcache jbd2 crc32c_generic ext4; do
  if [ "$m" = nbd ]; then insmod /modules/nbd.ko nbds_max=2 || fail "insmod nbd"; else insmod "/modules/$m.ko" || fail "insmod $m"; fi
done
ip link set lo up
ip link set eth0 up || fail "network: no eth0"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
step modules-and-network

attach() { # extra nbd-client flags, if any, as arguments
  nbd-client 10.0.2.2 "$PORT" /dev/nbd0 -N "$EXPORT" -b 4096 -t 60 "$@" || fail "attach: nbd-client 10.0.2.2 $PORT -N $EXPORT $*"
  step "attached $(cat /sys/block/nbd0/size) sectors"
}
new_ext4() {
  mkfs.ext4 -q -F -b 4096 /dev/nbd0 || fail "mkfs.ext4"
  step mkfs
  mount -t ext4 /dev/nbd0 /mnt || fail "mount after mkfs"
}
detach() {
  nbd-client -d /dev/nbd0 || fail "detach"
  step detached
}
check_sums() {
  (cd /mnt && sha256sum -c -s SUMS) || fail "$1: a file read back differs from what was written"
  step "$1: every file reads back as written"
}

case "$MODE" in
  write)
    attach
    new_ext4
    dd if=/dev/urandom of=/mnt/data bs=1M count="$MIB" 2>/dev/null || fail "dd"
    mkdir /mnt/small
    i=0
    while [ $i -lt 200 ]; do
      head -c $((i * 97 + 1)) /dev/urandom > /mnt/small/f$i || fail "small file $i"
      i=$((i + 1))
    done
    (cd /mnt && sha256sum data small/* > SUMS) || fail "sha256sum"
    step "wrote $MIB MiB and 200 small files"
    # 64 MiB more, written out, deleted and discarded: the kernel's TRIMs must give that space
    # back (the host checks the volume's allocation after this guest).
    dd if=/dev/urandom of=/mnt/scratch bs=1M count=64 2>/dev/null || fail "dd scratch"
    sync
    rm /mnt/scratch
    sync
    fstrim /mnt || fail "fstrim"
    step "trimmed a deleted 64 MiB file"
    umount /mnt || fail "umount"
    sync
    step "unmounted"
    detach
    attach
    mount -t ext4 /dev/nbd0 /mnt || fail "mount after reattach"
    check_sums reattached
    ;;
  verify)
    attach
    e2fsck -fn /dev/nbd0 > /tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; fail "e2fsck found errors"; }
    step "e2fsck clean"
    mount -t ext4 /dev/nbd0 /mnt || fail "mount"
    check_sums restarted
    ;;
  crash)
    # Files written and fsynced (file and directory) one after another until the server dies under
    # them: each "STRATA-DURABLE name sha256" line is printed only after its fsyncs returned, so
    # every file it names must survive the crash. The host kills the server while this runs.
    attach
    new_ext4
    step "writing until the server dies"
    i=0
    while [ $i -lt 100000 ]; do
      i=$((i + 1))
      head -c $((128 * 1024 + i * 4096)) /dev/urandom > /mnt/f$i 2>/dev/null || break
      sync /mnt/f$i 2>/dev/null || break
      sync /mnt 2>/dev/null || break
      echo "STRATA-DURABLE f$i $(sha256sum /mnt/f$i | cut -d' ' -f1)"
    done
    echo "STRATA-STEP the writes stopped at f$i"
    poweroff -f
    ;;
  recover)
    # After the crash: mount (ext4 replays its journal), list every file with its sha256, unmount,
    # then e2fsck must find the filesystem clean.
    attach
    mount -t ext4 /dev/nbd0 /mnt || fail "mount after the crash"
    step "mounted after the crash"
    for f in /mnt/f*; do
      [ -f "$f" ] && echo "STRATA-FILE $(basename "$f") $(sha256sum "$f" | cut -d' ' -f1)"
    done
    umount /mnt || fail "umount"
    e2fsck -fn /dev/nbd0 > /tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; fail "e2fsck found errors after the journal replay"; }
    step "e2fsck clean"
    detach
    echo "STRATA-DONE recover"
    poweroff -f
    ;;
  restart)
    # The server is killed and started again on the same port while the filesystem stays mounted
    # (e2e/kernel-nbd/serve-restart-under-mount.sh): files written and fsynced one after another,
    # each reported DURABLE or ERROR; then the kernel's messages, every file's sum, and e2fsck.
    attach $(arg flags | tr , ' ')
    new_ext4
    step "writing across a server restart"
    i=0
    while [ $i -lt 80 ]; do
      i=$((i + 1))
      if head -c $((128 * 1024 + i * 4096)) /dev/urandom > /mnt/f$i && sync /mnt/f$i && sync /mnt; then
        echo "STRATA-DURABLE f$i $(sha256sum /mnt/f$i | cut -d' ' -f1)"
      else
        echo "STRATA-ERROR f$i"
      fi
      sleep 0.3
    done
    dmesg | grep -E 'nbd|EXT4' | tail -8
    grep -q ' /mnt ext4 ro' /proc/mounts && step "the filesystem is read-only now"
    umount /mnt && step unmounted
    if e2fsck -fn /dev/nbd0 > /tmp/fsck.log 2>&1; then step "e2fsck clean"; else step "e2fsck found errors"; fi
    echo "STRATA-DONE restart"
    poweroff -f
    ;;
  *)
    fail "unknown strata.mode '$MODE'"
    ;;
esac
DIGEST="$(sha256sum /mnt/SUMS | cut -d' ' -f1)"
umount /mnt || fail "final umount"
detach
echo "STRATA-DONE $MODE $DIGEST"
sync
poweroff -f
