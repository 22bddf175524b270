#!/usr/bin/env bash
# What a pod's filesystem sees when `strata serve` dies and is started again while the kernel NBD
# device stays attached and mounted (a node plugin restart or upgrade without a drain): the guest of
# build-guest.sh writes and fsyncs files on ext4; after 10 of them this script SIGKILLs serve and
# starts it again on the same port and directory 3 s later. Prints how many files were durable
# before and after, and what the guest's kernel said. docs/kernel-nbd.md, "A serve restart under a
# mounted filesystem", has the results.
#   e2e/kernel-nbd/serve-restart-under-mount.sh WORK_DIR [NBD_CLIENT_FLAGS=-persist] [PORT=10809]
# (flags comma-separated: -persist,-nonetlink)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
W="$1"; FLAGS="${2:--persist}"; PORT="${3:-10809}"
mkdir -p "$W"
"$HERE/build-guest.sh" "$W/guest" >/dev/null
rm -rf "$W/data"
serve() { "$ROOT/strata" serve --dir "$W/data" --size 256MiB --listen "127.0.0.1:$PORT" > "$W/serve-$1.log" 2>&1 & echo $!; }
S1="$(serve 1)"
for _ in $(seq 1 120); do grep -q "nbd://127.0.0.1:$PORT" "$W/serve-1.log" && break; sleep 1; done
timeout 400 qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 1 -m 512 -nographic -no-reboot -monitor none \
  -serial stdio -kernel "$W/guest/vmlinuz" -initrd "$W/guest/initrd.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3 strata.port=$PORT strata.export=vol0 strata.mode=restart strata.mib=0 strata.flags=$FLAGS" \
  -netdev user,id=n0 -device e1000,netdev=n0 > "$W/console.log" 2>&1 &
Q=$!
for _ in $(seq 1 300); do [ "$(grep -c STRATA-DURABLE "$W/console.log" || true)" -ge 10 ] && break; sleep 1; done
before="$(grep -c STRATA-DURABLE "$W/console.log" || true)"
# serve runs as java under the strata script: kill the JVM itself, as a crash would.
pkill -9 -P "$S1" java 2>/dev/null || true; kill -9 "$S1" 2>/dev/null || true
pkill -9 -f -- "--dir $W/data" 2>/dev/null || true
sleep 3
S2="$(serve 2)"
wait "$Q" || true
echo "nbd-client flags: $FLAGS; durable before the kill: $before; durable in all: $(grep -c STRATA-DURABLE "$W/console.log" || true);" \
  "errors: $(grep -c STRATA-ERROR "$W/console.log" || true)"
grep -E "STRATA-STEP|EXT4|nbd" "$W/console.log" | grep -v "STRATA-STEP modules" | tail -12 || true
echo "NBD sessions the restarted serve opened (nbd-client reconnecting): $(grep -c "serving export" "$W/serve-2.log" || true)"
pkill -TERM -f -- "--dir $W/data" 2>/dev/null || true
