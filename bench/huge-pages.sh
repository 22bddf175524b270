#!/usr/bin/env bash
# O_DIRECT 1 MiB writes and reads from buffers on ordinary pages and on huge-page slabs, side by
# side in one process, the order alternating per round (docs/benchmarks.md, "I/O buffers on huge
# pages"). Ratios are huge / ordinary per round.
#   bench/huge-pages.sh [ROUNDS=6] [MIB_PER_PASS=1024] [WORKDIR=bench/results/work]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${1:-6}"; MIB="${2:-1024}"; WORK="${3:-$ROOT/bench/results/work}"
. "$ROOT/bench/lib.sh"
find_java
build_engine_classes
mkdir -p "$WORK"
results_file huge-pages
{ echo "# $(date -Is) $(uname -r) $(nproc) cpus, fs $(findmnt -n -o FSTYPE -T "$WORK") on $(findmnt -n -o SOURCE -T "$WORK")," \
       "load $(cut -d' ' -f1-3 /proc/loadavg)"; } | tee "$out"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx256m -cp "$CP" dev.strata.engine.bench.HugePageIoBench \
    "$WORK/huge-pages.dat" "$MIB" "$ROUNDS" | tee -a "$out"
python3 "$ROOT/bench/summarize.py" "$out" \
  ordinary_write_ms_per_MiB huge_write_ms_per_MiB ordinary_write_cpu_ms_per_MiB huge_write_cpu_ms_per_MiB \
  ordinary_read_ms_per_MiB huge_read_ms_per_MiB ordinary_read_cpu_ms_per_MiB huge_read_cpu_ms_per_MiB \
  --ratio huge_write_ms_per_MiB/ordinary_write_ms_per_MiB --ratio huge_write_cpu_ms_per_MiB/ordinary_write_cpu_ms_per_MiB \
  --ratio huge_read_ms_per_MiB/ordinary_read_ms_per_MiB --ratio huge_read_cpu_ms_per_MiB/ordinary_read_cpu_ms_per_MiB | tee -a "$out"
echo "results: $out"
