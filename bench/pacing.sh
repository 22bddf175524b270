#!/usr/bin/env bash
# Writeback pacing benchmark (issue 4, "Writeback pacing"; docs/writeback-pacing.md).
# A sequential fill of a new file through the page cache in 1 MiB writes, (a) plain and (b) with
# the WritebackPacer, alternating (which one goes first alternates too), REPS times each:
# write() latency p50/p99/max, peak Dirty and Dirty+Writeback from /proc/meminfo (50 ms
# samples), loop time and total time including the final fdatasync. Prints median/min/max.
#   bench/pacing.sh [REPS=3] [MIB=4096] [WORKDIR=bench/results/work]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-3}"; MIB="${2:-4096}"; WORK="${3:-$ROOT/bench/results/work}"
. "$ROOT/bench/lib.sh"
find_java
# The benchmark needs only the engine's own classes (no dependencies).
build_engine_classes
mkdir -p "$WORK"
results_file pacing
{ echo "# $(date -Is) $(uname -r) $(nproc) cpus, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB RAM," \
       "vm.dirty_ratio=$(cat /proc/sys/vm/dirty_ratio) vm.dirty_background_ratio=$(cat /proc/sys/vm/dirty_background_ratio)," \
       "fs $(findmnt -n -o FSTYPE -T "$WORK"), $MIB MiB fill"; } | tee -a "$out"
one() {
  sync  # start each run with no dirty data of anyone else's
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx256m -cp "$CP" dev.strata.engine.bench.PacingBench \
      "$WORK/pacing-fill.dat" "$MIB" "$1" 2>/dev/null | tail -1
}
for i in $(seq 1 "$REPS"); do
  if [ $((i % 2)) -eq 1 ]; then a=$(one plain); b=$(one paced); else b=$(one paced); a=$(one plain); fi
  echo "run=$i $a $b" | tee -a "$out"
done
python3 "$ROOT/bench/summarize.py" "$out" \
  plain_p50_ms paced_p50_ms plain_p99_ms paced_p99_ms plain_max_ms paced_max_ms \
  plain_dirty_peak_MiB paced_dirty_peak_MiB plain_dirty_wb_peak_MiB paced_dirty_wb_peak_MiB \
  plain_write_s paced_write_s plain_total_s paced_total_s paced_final_chunk_MiB paced_wait_total_s paced_stall_total_s \
  --ratio paced_p99_ms/plain_p99_ms --ratio paced_max_ms/plain_max_ms \
  --ratio paced_dirty_peak_MiB/plain_dirty_peak_MiB --ratio paced_total_s/plain_total_s | tee -a "$out"
echo "results: $out"
