#!/usr/bin/env bash
# NBD server benchmark (issue 3, acceptance 3).
# The same fio workloads (ioengine=nbd, one connection, Unix socket) against three servers in one
# run, alternating their order each repetition:
#   strata   `strata serve` (the built jars, as ./strata runs them) on a fresh --dir (local
#            directory object store + journal on this disk), its read cache as large as the
#            volume (STRATA_SERVE_OPTS, default --cache-size 4GiB): the fill and the random writes
#            leave ~3.5 GB of objects in which the region's live 4 KiB pieces are scattered, so the
#            default 1 GiB cache cannot hold what the "warm" read reads (docs/benchmarks.md)
#   qemunbd  qemu-nbd --cache=none --aio=native -f raw on a preallocated raw file on the same disk
#   nbdkit   nbdkit memory (RAM: the ceiling of the protocol path, no storage)
# Workloads (each --runtime seconds, time based, over the first REGION of the volume):
#   rw4kqd1  4 KiB random write, queue depth 1
#   rw4kqd32 4 KiB random write, queue depth 32
#   rr4kqd32 4 KiB random read, queue depth 32, after a fill of the region and a warm-up read
#   sw1mqd8  1 MiB sequential write, queue depth 8
# Each run prints one line: run=N SERVER_WORKLOAD_iops=... _MBps=... _p50us=... _p99us=... (clat),
# then bench/summarize.py gives median/min/max and the per-run ratios strata/qemunbd, strata/nbdkit.
#   bench/nbd.sh [REPS=3] [RUNTIME=15] [REGION_MIB=1024] [WORKDIR=bench/results/nbd-work]
# STRATA_JAVA_OPTS adds JVM options to the serve process (e.g. -XX:StartFlightRecording=...);
# STRATA_SERVE_OPTS replaces its extra serve options (e.g. "" for the default cache size).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-3}"; RUNTIME="${2:-15}"; REGION="${3:-1024}"; WORK="${4:-$ROOT/bench/results/nbd-work}"
VOLSIZE=4G
SERVE_OPTS="${STRATA_SERVE_OPTS---cache-size $VOLSIZE}"
. "$ROOT/bench/lib.sh"
find_java
for t in fio qemu-nbd nbdkit nbdinfo; do
  command -v "$t" >/dev/null || { echo "bench: needs $t (Debian: fio, qemu-utils, nbdkit, libnbd-bin)" >&2; exit 1; }
done
JAR="$ROOT/csi-node/target/csi-node-0.1.0-SNAPSHOT.jar"
if [ ! -f "$JAR" ]; then
  (cd "$ROOT" && ./mvnw -q -B -DskipTests -pl csi-node -am install) >&2
fi
mkdir -p "$WORK"
results_file nbd
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; true; }
trap cleanup EXIT

wait_for() { # URI: until the server answers
  for _ in $(seq 1 300); do nbdinfo --size "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: no server at $1" >&2; exit 1
}

start_server() { # SERVER -> sets URI, SERVER_PID
  local s="$1"
  rm -rf "${WORK:?}"/*
  case "$s" in
    strata)
      # shellcheck disable=SC2086
      "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC ${STRATA_JAVA_OPTS:-} \
        -cp "$JAR:$ROOT/csi-node/target/lib/*" dev.strata.node.cli.StrataMain \
        serve --dir "$WORK/strata" --volume vol --size "$VOLSIZE" --socket "$WORK/strata.sock" $SERVE_OPTS \
        > "$WORK/strata.out" 2> "$WORK/strata.err" &
      SERVER_PID=$!
      URI="nbd+unix:///vol?socket=$WORK/strata.sock" ;;
    qemunbd)
      fallocate -l "$VOLSIZE" "$WORK/disk.raw"
      qemu-nbd -f raw --cache=none --aio=native -t -e 4 -x vol -k "$WORK/qemu.sock" "$WORK/disk.raw" \
        2> "$WORK/qemu.err" &
      SERVER_PID=$!
      URI="nbd+unix:///vol?socket=$WORK/qemu.sock" ;;
    nbdkit)
      nbdkit -f -U "$WORK/nbdkit.sock" memory "$VOLSIZE" 2> "$WORK/nbdkit.err" &
      SERVER_PID=$!
      URI="nbd+unix:///?socket=$WORK/nbdkit.sock" ;;
  esac
  wait_for "$URI"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true   # SIGTERM: strata flushes, uploads and exits 0
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

fio_run() { # NAME RW BS QD [extra fio args] -> prints fio json to $WORK/NAME.json
  local name="$1" rw="$2" bs="$3" qd="$4"; shift 4
  fio --name="$name" --ioengine=nbd --uri="$URI" --rw="$rw" --bs="$bs" --iodepth="$qd" --numjobs=1 \
      --size="${REGION}M" --randrepeat=0 --percentile_list=50:99 --output-format=json "$@" > "$WORK/$name.json"
}

figures() { # PREFIX NAME DIR -> key=value figures from a fio json
  python3 - "$1" "$WORK/$2.json" "$3" <<'EOF'
import json, sys
prefix, path, d = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
j = json.loads(text[text.index("{"):])["jobs"][0][d]   # fio's nbd engine prints a line before the json
pct = j["clat_ns"].get("percentile", {})
p = lambda q: pct.get(q, 0) / 1000.0
print(f"{prefix}_iops={j['iops']:.0f} {prefix}_MBps={j['bw_bytes'] / 1e6:.1f} "
      f"{prefix}_p50us={p('50.000000'):.1f} {prefix}_p99us={p('99.000000'):.1f}")
EOF
}

measure() { # SERVER -> FIG: key=value figures for every workload
  local s="$1" f=""
  start_server "$s"
  fio_run fill write 1M 8 >/dev/null                                         # the region holds data
  fio_run rw4kqd1 randwrite 4k 1 --runtime="$RUNTIME" --time_based;  f+=" $(figures "${s}_rw4kqd1" rw4kqd1 write)"
  fio_run rw4kqd32 randwrite 4k 32 --runtime="$RUNTIME" --time_based; f+=" $(figures "${s}_rw4kqd32" rw4kqd32 write)"
  fio_run warmup randread 4k 32 --runtime=5 --time_based >/dev/null
  fio_run rr4kqd32 randread 4k 32 --runtime="$RUNTIME" --time_based;  f+=" $(figures "${s}_rr4kqd32" rr4kqd32 read)"
  fio_run sw1mqd8 write 1M 8 --runtime="$RUNTIME" --time_based;       f+=" $(figures "${s}_sw1mqd8" sw1mqd8 write)"
  stop_server
  if [ "$s" = strata ] && ! grep -q "stopped cleanly" "$WORK/strata.out"; then
    echo "bench: strata serve did not stop cleanly:" >&2; cat "$WORK/strata.out" "$WORK/strata.err" >&2; exit 1
  fi
  FIG="$f"
}

{
  echo "# bench/nbd.sh $REPS $RUNTIME $REGION  ($(date -u +%FT%TZ), $(nproc) CPUs, $(uname -r))"
  echo "# $(fio --version), $(qemu-nbd --version | head -1), $(nbdkit --version), $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
  echo "# strata serve options: $SERVE_OPTS"
  echo "# git $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- csi-node cache-engine || echo +dirty)"
} | tee -a "$out"
servers=(strata qemunbd nbdkit)
for i in $(seq 1 "$REPS"); do
  line="run=$i"
  for k in 0 1 2; do                       # rotate the order: each server goes first once in 3 runs
    s="${servers[$(( (k + i - 1) % 3 ))]}"
    measure "$s"
    line+="$FIG"
  done
  echo "$line" | tee -a "$out"
done
keys=(); ratios=()
for w in rw4kqd1 rw4kqd32 rr4kqd32 sw1mqd8; do
  for s in strata qemunbd nbdkit; do keys+=("${s}_${w}_iops" "${s}_${w}_MBps" "${s}_${w}_p50us" "${s}_${w}_p99us"); done
  ratios+=(--ratio "strata_${w}_iops/qemunbd_${w}_iops" --ratio "strata_${w}_iops/nbdkit_${w}_iops")
done
python3 "$ROOT/bench/summarize.py" "$out" "${keys[@]}" "${ratios[@]}" | tee -a "$out"
echo "results: $out"
