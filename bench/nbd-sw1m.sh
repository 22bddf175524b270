#!/usr/bin/env bash
# 1 MiB sequential writes QD8 (the sw1mqd8 job of bench/nbd.sh) against several `strata serve`
# variants and qemu-nbd, side by side in one run, the order rotated every repetition.
#   bench/nbd-sw1m.sh [REPS=5] [RUNTIME=15] [REGION_MIB=1024] [WORKDIR=bench/results/nbd-work]
# VARIANTS: space-separated NAME=SERVE_ARGS pairs, SERVE_ARGS with commas for spaces, e.g.
#   VARIANTS="strata= strataBypass=--large-write-bypass,256KiB"   (the default)
# A variant may name its own jar directory with NAME@DIR=ARGS (DIR holds csi-node-*.jar and lib/),
# and its own JVM options in STRATA_JAVA_OPTS_NAME.
# Per server: a fresh directory/disk, fill the region (1 MiB sequential, QD8, not reported), then
# RUNTIME seconds of 1 MiB sequential writes QD8 over it (time based, no flushes), then SIGTERM.
# bench/summarize.py prints median/min/max and the per-run ratios of each variant to qemu-nbd.
# FIO_EXTRA adds fio options to the measured job and JOB names it (default sw1mqd8), e.g.
#   JOB=sw1mqd1fsync FIO_EXTRA="--iodepth=1 --fsync=1"   (a FLUSH after every 1 MiB write)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-5}"; RUNTIME="${2:-15}"; REGION="${3:-1024}"; WORK="${4:-$ROOT/bench/results/nbd-work}"
VOLSIZE=4G
VARIANTS="${VARIANTS:-strata= strataBypass=--large-write-bypass,256KiB}"
JOB="${JOB:-sw1mqd8}"
. "$ROOT/bench/lib.sh"
find_java
for t in fio qemu-nbd nbdinfo; do
  command -v "$t" >/dev/null || { echo "bench: needs $t (Debian: fio, qemu-utils, libnbd-bin)" >&2; exit 1; }
done
DEFAULT_DIR="$ROOT/csi-node/target"
if [ ! -f "$DEFAULT_DIR/csi-node-0.1.0-SNAPSHOT.jar" ]; then
  (cd "$ROOT" && ./mvnw -q -B -DskipTests -pl csi-node -am package) >&2
fi
mkdir -p "$WORK"
results_file nbd-sw1m
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; true; }
trap cleanup EXIT

declare -A ARGS JARDIR
names=()
for v in $VARIANTS; do
  key="${v%%=*}"; args="${v#*=}"
  name="${key%%@*}"; dir="$DEFAULT_DIR"
  [ "$key" != "$name" ] && dir="${key#*@}"
  names+=("$name"); ARGS[$name]="${args//,/ }"; JARDIR[$name]="$dir"
done
servers=("${names[@]}" qemunbd)

wait_for() {
  for _ in $(seq 1 300); do nbdinfo --size "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: no server at $1" >&2; exit 1
}

start_server() { # SERVER -> URI, SERVER_PID
  local s="$1"
  rm -rf "${WORK:?}"/*
  if [ "$s" = qemunbd ]; then
    fallocate -l "$VOLSIZE" "$WORK/disk.raw"
    qemu-nbd -f raw --cache=none --aio=native -t -e 4 -x vol -k "$WORK/qemu.sock" "$WORK/disk.raw" 2> "$WORK/qemu.err" &
    SERVER_PID=$!
    URI="nbd+unix:///vol?socket=$WORK/qemu.sock"
  else
    local dir="${JARDIR[$s]}" optsvar="STRATA_JAVA_OPTS_$s"
    # shellcheck disable=SC2086
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC ${!optsvar:-} \
      -cp "$dir/csi-node-0.1.0-SNAPSHOT.jar:$dir/lib/*" dev.strata.node.cli.StrataMain \
      serve --dir "$WORK/strata" --volume vol --size "$VOLSIZE" --socket "$WORK/strata.sock" ${ARGS[$s]} \
      > "$WORK/strata.out" 2> "$WORK/strata.err" &
    SERVER_PID=$!
    URI="nbd+unix:///vol?socket=$WORK/strata.sock"
  fi
  wait_for "$URI"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

fio_run() {
  local name="$1"; shift
  fio --name="$name" --ioengine=nbd --uri="$URI" --rw=write --bs=1M --iodepth=8 --numjobs=1 \
      --size="${REGION}M" --percentile_list=50:99 --output-format=json "$@" > "$WORK/$name.json"
}

figures() { # PREFIX NAME
  python3 - "$1" "$WORK/$2.json" <<'PY'
import json, sys
prefix, path = sys.argv[1], sys.argv[2]
text = open(path).read()
j = json.loads(text[text.index("{"):])["jobs"][0]["write"]
pct = j["clat_ns"].get("percentile", {})
p = lambda q: pct.get(q, 0) / 1000.0
print(f"{prefix}_iops={j['iops']:.0f} {prefix}_MBps={j['bw_bytes'] / 1e6:.1f} "
      f"{prefix}_p50us={p('50.000000'):.1f} {prefix}_p99us={p('99.000000'):.1f}")
PY
}

measure() {
  local s="$1"
  start_server "$s"
  fio_run fill >/dev/null
  # shellcheck disable=SC2086
  fio_run "$JOB" --runtime="$RUNTIME" --time_based ${FIO_EXTRA:-}
  FIG=" $(figures "${s}_$JOB" "$JOB")"
  stop_server
  if [ "$s" != qemunbd ] && ! grep -q "stopped cleanly" "$WORK/strata.out"; then
    echo "bench: $s did not stop cleanly:" >&2; cat "$WORK/strata.out" "$WORK/strata.err" >&2; exit 1
  fi
}

{
  echo "# bench/nbd-sw1m.sh $REPS $RUNTIME $REGION  VARIANTS='$VARIANTS' JOB=$JOB FIO_EXTRA='${FIO_EXTRA:-}'  ($(date -u +%FT%TZ), $(nproc) CPUs, $(uname -r))"
  echo "# $(fio --version), $(qemu-nbd --version | head -1), $("$JAVA_HOME/bin/java" -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# git $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- csi-node cache-engine || echo +dirty)"
} | tee -a "$out"
n=${#servers[@]}
for i in $(seq 1 "$REPS"); do
  line="run=$i"
  for k in $(seq 0 $((n - 1))); do
    s="${servers[$(( (k + i - 1) % n ))]}"
    measure "$s"
    line+="$FIG"
  done
  echo "$line load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
done
keys=(); ratios=()
for s in "${servers[@]}"; do keys+=("${s}_${JOB}_iops" "${s}_${JOB}_MBps" "${s}_${JOB}_p50us" "${s}_${JOB}_p99us"); done
for s in "${names[@]}"; do ratios+=(--ratio "${s}_${JOB}_iops/qemunbd_${JOB}_iops"); done
[ "${#names[@]}" -ge 2 ] && ratios+=(--ratio "${names[1]}_${JOB}_iops/${names[0]}_${JOB}_iops")
python3 "$ROOT/bench/summarize.py" "$out" "${keys[@]}" "${ratios[@]}" | tee -a "$out"
echo "results: $out"
