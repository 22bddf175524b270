#!/usr/bin/env bash
# Read cache benchmark (issue 4, acceptance 2): cold 1 MiB sequential read through the engine
# from a real S3 server (S3Proxy, filesystem backend) as a ratio to the same server's plain
# GET rate measured in the same run; then a restart of the reading node: hit ratio and GETs.
#   bench/read-cache.sh [REPS=3] [VOLUME_MIB=256]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-3}"; MIB="${2:-256}"
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
WORK="$ROOT/bench/results/read-cache-work"
out="$ROOT/bench/results/read-cache-$(date +%Y%m%d-%H%M%S).txt"
mkdir -p "$(dirname "$out")"; : > "$out"
for i in $(seq 1 "$REPS"); do
  rm -rf "$WORK"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx2g -cp "$CP" dev.strata.engine.bench.ColdReadBench "$WORK" "$MIB" "$i" 2>/dev/null \
    | grep '^run=' | tee -a "$out"
done
rm -rf "$WORK"
python3 "$ROOT/bench/summarize.py" "$out" s3_get_ceiling_MBps cold_read_MBps restart_read_MBps cold_gets_per_GiB \
  restart_hit_ratio restart_gets_per_GiB --ratio cold_read_MBps/s3_get_ceiling_MBps | tee -a "$out"
