#!/usr/bin/env bash
# Sequential coalescer benchmark (issue 4): a database log through the engine — sequential
# writes of 512 B and 1 KiB with a FLUSH every 1, 16 or 256 writes — without and with the
# coalescer, side by side in each run (CoalescerBench). Counts of journal records, entries
# (positional writes), bytes and fdatasyncs are the main result; times are shown as on/off ratios.
# Prints median / min / max over REPS runs.
#   bench/coalescer.sh [REPS=5] [WRITES=4096] [CLUSTER_BYTES=65536] [WORKDIR=bench/results/coalescer-work]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-5}"; WRITES="${2:-4096}"; CLUSTER="${3:-65536}"; WORK="${4:-$ROOT/bench/results/coalescer-work}"
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
results_file coalescer
for i in $(seq 1 "$REPS"); do
  rm -rf "$WORK"; mkdir -p "$WORK"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$CP" dev.strata.engine.bench.CoalescerBench \
    "$WORK" "$i" "$WRITES" "$CLUSTER" 2>/dev/null | grep '^run=' | tee -a "$out"
done
rm -rf "$WORK"
keys=(); ratios=()
for s in b512_f1 b512_f16 b512_f256 b1024_f1 b1024_f16 b1024_f256; do
  for f in records entries journal_KiB fdatasyncs bucket_KiB us_per_write; do
    keys+=("${s}_off_$f" "${s}_on_$f")
  done
  ratios+=(--ratio "${s}_on_us_per_write/${s}_off_us_per_write" --ratio "${s}_on_entries/${s}_off_entries"
           --ratio "${s}_on_journal_KiB/${s}_off_journal_KiB")
done
python3 "$ROOT/bench/summarize.py" "$out" "${keys[@]}" "${ratios[@]}" | tee -a "$out"
