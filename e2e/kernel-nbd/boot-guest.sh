#!/usr/bin/env bash
# Boots the guest built by build-guest.sh under QEMU's software emulation (this machine's KVM
# cannot run an ordinary kernel) and prints its console. The guest dials 10.0.2.2:PORT, which
# QEMU's user-mode network forwards to this host's 127.0.0.1:PORT.
#   e2e/kernel-nbd/boot-guest.sh GUEST_DIR PORT EXPORT write|verify|crash|recover MIB [TIMEOUT_S=240]
set -euo pipefail
G="$1"; PORT="$2"; EXPORT="$3"; MODE="$4"; MIB="$5"; LIMIT="${6:-240}"
command -v qemu-system-x86_64 >/dev/null || { echo "boot-guest: needs qemu-system-x86_64 (Debian: qemu-system-x86)" >&2; exit 2; }
exec timeout --kill-after=10 "$LIMIT" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 1 -m 512 \
  -nographic -no-reboot -monitor none -serial stdio \
  -kernel "$G/vmlinuz" -initrd "$G/initrd.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3 strata.port=$PORT strata.export=$EXPORT strata.mode=$MODE strata.mib=$MIB" \
  -netdev user,id=n0 -device e1000,netdev=n0
