#!/usr/bin/env bash
# Cache-hit sequential reads (ColdReadBench's restart and reboot reads, 1 MiB O_DIRECT preads
# straight into the reader's buffer) with the reader's buffers on ordinary pages and on huge
# pages (as the NBD server's pool cuts them now), interleaved JVM by JVM (docs/benchmarks.md,
# "I/O buffers on huge pages").
#   bench/read-cache-reader-buffers.sh [REPS=4] [VOLUME_MIB=512]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-4}"; MIB="${2:-512}"
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
WORK="$ROOT/bench/results/reader-buffers-work"
results_file read-cache-reader-buffers
for i in $(seq 1 "$REPS"); do
  for kind in ordinary huge; do
    rm -rf "$WORK"
    flag=false; [ "$kind" = ordinary ] && flag=true
    echo "# kind=$kind rep=$i load=$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
    # One measured round, two warm-up rounds: only the restart and reboot reads are used here.
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC -Xmx2g -Dstrata.bench.ordinaryReaderBuffers=$flag -cp "$CP" \
      dev.strata.engine.bench.ColdReadBench "$WORK" "$MIB" "$kind$i" 1 2 2>/dev/null | grep -E '^run=.*[.](restart|reboot) ' | tee -a "$out"
  done
done
rm -rf "$WORK"
for kind in ordinary huge; do
  echo "== $kind"
  grep "^run=$kind" "$out" > "$out.$kind"
  python3 "$ROOT/bench/summarize.py" "$out.$kind" restart_read_MBps reboot_read_MBps restart_hit_ratio reboot_hit_ratio
done | tee -a "$out"
