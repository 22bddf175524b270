#!/usr/bin/env bash
# Read cache benchmark (issue 4, acceptance 2): cold 1 MiB sequential read through the engine
# from a real S3 server (S3Proxy, filesystem backend) as a ratio to the same server's GET ceiling
# measured in the same run (the fastest of plain 1 MiB GETs one at a time, GETs of the size and
# concurrency the engine's readahead uses, and, without LATENCY_MS, the same with twice as many in
# flight), after WARMUP warm-up rounds; then a restart of the reading node: hit ratio and GETs.
# Each JVM (REPS) runs ROUNDS measured rounds; the ratio is per round. The JVM runs with the GC
# `strata serve` uses (ZGC). LATENCY_MS adds that much latency
# before every request, engine and ceiling alike (a remote store's time to first byte). QUEUE_DEPTH:
# 1 MiB reads the cold reader keeps in flight (1: one at a time; 4: as a client with an I/O depth).
# ISOLATED=1 (environment) runs S3Proxy in a JVM of its own pinned to CPU 0 and the reader (the
# engine, the ceiling's and the floor's clients) pinned to CPU 1, so that the ceiling is what the
# server can serve and the server's CPU is not charged to the reader, as a remote store's is not
# (docs/benchmarks.md, "The server on a core of its own"); by default S3Proxy runs inside the
# reader's JVM on the same two cores, which measures the reader's CPU per MiB against bare GETs.
#   [ISOLATED=1] bench/read-cache.sh [REPS=3] [VOLUME_MIB=256] [ROUNDS=3] [WARMUP=16] [LATENCY_MS=0] [QUEUE_DEPTH=1]
# (16 warm-up rounds: the JIT compiles the per-request code of the S3 client, S3Proxy and the engine
# for ~15 rounds; docs/benchmarks.md, "Steady state, both orders")
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-3}"; MIB="${2:-256}"; ROUNDS="${3:-3}"; WARMUP="${4:-16}"; LATENCY="${5:-0}"; QD="${6:-1}"
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
WORK="$ROOT/bench/results/read-cache-work"
results_file read-cache
for i in $(seq 1 "$REPS"); do
  rm -rf "$WORK"
  pin=(); server=()
  if [ "${ISOLATED:-0}" = 1 ]; then
    start_isolated_s3proxy "$WORK/s3proxy"
    echo "# isolated: S3Proxy on CPU 0 at $S3P_ENDPOINT, the reader on CPU 1" | tee -a "$out"
    pin=(taskset -c 1); server=(-Dstrata.bench.endpoint="$S3P_ENDPOINT")
  fi
  "${pin[@]}" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC -Xmx2g "${server[@]}" -cp "$CP" \
    dev.strata.engine.bench.ColdReadBench "$WORK" "$MIB" "$i" "$ROUNDS" "$WARMUP" "$LATENCY" "$QD" 2>/dev/null \
    | grep -E '^(run=|#)' | tee -a "$out"
  if [ "${ISOLATED:-0}" = 1 ]; then
    stop_isolated_s3proxy
  fi
done
rm -rf "$WORK"
python3 "$ROOT/bench/summarize.py" "$out" s3_get_ceiling_MBps ceiling_serial_1MiB_MBps ceiling_parallel_MBps ceiling_wide_MBps cold_read_MBps \
  cold_cpu_ms_per_MiB ceiling_serial_cpu_ms_per_MiB ceiling_parallel_cpu_ms_per_MiB cold_gets_per_GiB \
  cold_gets_in_flight ceiling_parallel_gets_in_flight open_ms cold_max_read_ms cold_reads_over_8ms \
  restart_read_MBps restart_hit_ratio restart_gets_per_GiB cold_all_gets_per_GiB restart_all_gets_per_GiB \
  reboot_read_MBps reboot_hit_ratio reboot_file_reads_per_GiB \
  floor_MBps floor_cpu_ms_per_MiB \
  --ratio cold_read_MBps/s3_get_ceiling_MBps --ratio cold_read_MBps/ceiling_serial_1MiB_MBps --ratio floor_MBps/s3_get_ceiling_MBps --ratio cold_read_MBps/floor_MBps | tee -a "$out"
