#!/usr/bin/env bash
# Cold-read benchmark of two builds, interleaved JVM by JVM (base, new, base, new, ...) so that both
# see the same machine load: BASE_TREE is another checkout (e.g. `git worktree add ../base REV`)
# with its cache-engine classes built and this tree's ColdReadBench.java copied in (same bench
# code for both); this tree is "new". Same arguments as bench/read-cache.sh otherwise, ISOLATED=1
# included (each JVM then gets an S3Proxy of its own on CPU 0 and runs on CPU 1).
#   [ISOLATED=1] bench/read-cache-compare.sh BASE_TREE [REPS=3] [VOLUME_MIB=512] [ROUNDS=3] [WARMUP=16] [LATENCY_MS=0]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE="$(cd "$1" && pwd)"; REPS="${2:-3}"; MIB="${3:-512}"; ROUNDS="${4:-3}"; WARMUP="${5:-16}"; LATENCY="${6:-0}"
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
DEPS="$(cat "$ROOT/cache-engine/target/bench.cp")"
WORK="$ROOT/bench/results/read-cache-compare-work"
results_file read-cache-compare
for i in $(seq 1 "$REPS"); do
  for tree in base new; do
    root="$ROOT"; [ "$tree" = base ] && root="$BASE"
    rm -rf "$WORK"
    echo "# tree=$tree rep=$i load=$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
    pin=(); server=()
    if [ "${ISOLATED:-0}" = 1 ]; then
      start_isolated_s3proxy "$WORK/s3proxy"
      pin=(taskset -c 1); server=(-Dstrata.bench.endpoint="$S3P_ENDPOINT")
    fi
    "${pin[@]}" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC -Xmx2g "${server[@]}" \
      -cp "$root/cache-engine/target/classes:$root/cache-engine/target/test-classes:$DEPS" \
      dev.strata.engine.bench.ColdReadBench "$WORK" "$MIB" "$tree$i" "$ROUNDS" "$WARMUP" "$LATENCY" 2>/dev/null | grep -E '^run=' | tee -a "$out"
    if [ "${ISOLATED:-0}" = 1 ]; then
      stop_isolated_s3proxy
    fi
  done
done
rm -rf "$WORK"
for tree in base new; do
  echo "== $tree"
  grep "^run=$tree" "$out" | grep -v restart > "$out.$tree"
  python3 "$ROOT/bench/summarize.py" "$out.$tree" s3_get_ceiling_MBps cold_read_MBps cold_cpu_ms_per_MiB ceiling_parallel_cpu_ms_per_MiB \
    cold_gets_in_flight ceiling_parallel_gets_in_flight floor_MBps \
    --ratio cold_read_MBps/s3_get_ceiling_MBps --ratio cold_read_MBps/floor_MBps
  grep -E "^run=$tree[0-9]+[.](restart|reboot) " "$out" > "$out.$tree.restart" || true
  python3 "$ROOT/bench/summarize.py" "$out.$tree.restart" restart_read_MBps restart_hit_ratio reboot_read_MBps reboot_hit_ratio \
    reboot_file_reads_per_GiB
done | tee -a "$out"
