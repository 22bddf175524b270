#!/usr/bin/env bash
# Where the cold read's CPU goes, against the GET ceiling's (issue 4): runs one ColdReadBench JVM
# under a system-wide `perf record` (kernel and JIT-compiled frames, a perf map written at exit)
# and splits the samples by the bench's phase marks (cold read, serial ceiling, parallel ceiling)
# and by who they belong to (S3 client, S3Proxy, the engine, virtual-thread scheduling, the JIT
# compilers, idle), per MiB read, over the last ROUNDS rounds. Needs perf and the right to use it
# system-wide (root, or kernel.perf_event_paranoid <= -1); a bench, not a test.
# ISOLATED=1: S3Proxy in a JVM of its own on CPU 0, the reader on CPU 1 (as bench/read-cache.sh).
#   [ISOLATED=1] bench/read-cache-profile.sh [VOLUME_MIB=512] [ROUNDS=3] [WARMUP=3] [LATENCY_MS=0]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MIB="${1:-512}"; ROUNDS="${2:-3}"; WARMUP="${3:-3}"; LATENCY="${4:-0}"
command -v perf >/dev/null || { echo "read-cache-profile: needs perf (linux-perf)" >&2; exit 1; }
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
D="$ROOT/bench/results/read-cache-profile-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$D"
perf record -a -g -F 499 -k CLOCK_MONOTONIC -o "$D/perf.data" 2>"$D/perf-record.log" &
PERF=$!
sleep 0.5
PERF_JVM=(-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer)
pin=(); server=()
if [ "${ISOLATED:-0}" = 1 ]; then
  start_isolated_s3proxy "$D/work/s3proxy" "${PERF_JVM[@]}"
  pin=(taskset -c 1); server=(-Dstrata.bench.endpoint="$S3P_ENDPOINT")
fi
"${pin[@]}" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC -Xmx2g "${PERF_JVM[@]}" "${server[@]}" -cp "$CP" \
  dev.strata.engine.bench.ColdReadBench "$D/work" "$MIB" 1 "$ROUNDS" "$WARMUP" "$LATENCY" 2>"$D/phases.txt" | grep -E '^(run=|#)' | tee "$D/bench.txt"
if [ "${ISOLATED:-0}" = 1 ]; then
  stop_isolated_s3proxy
fi
kill -INT "$PERF"; wait "$PERF" || true
# The phase marks are wall-clock ms; perf's timestamps are CLOCK_MONOTONIC.
python3 -c "import time; print(time.time() * 1000 - time.clock_gettime(time.CLOCK_MONOTONIC) * 1000)" > "$D/monotonic-offset-ms"
perf script -i "$D/perf.data" -F comm,tid,cpu,time,ip,sym,dso 2>/dev/null > "$D/perf.txt"
rm -rf "$D/work" "$D/perf.data"
python3 "$ROOT/bench/perf_phases.py" "$D/perf.txt" "$D/phases.txt" "$(cat "$D/monotonic-offset-ms")" "$MIB" "$ROUNDS" | tee "$D/profile.txt"
if [ "${ISOLATED:-0}" = 1 ]; then
  echo "-- the reader's core (CPU 1) alone:" | tee -a "$D/profile.txt"
  python3 "$ROOT/bench/perf_phases.py" "$D/perf.txt" "$D/phases.txt" "$(cat "$D/monotonic-offset-ms")" "$MIB" "$ROUNDS" 1 | tee -a "$D/profile.txt"
fi
