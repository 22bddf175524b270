#!/usr/bin/env bash
# Garbage collection benchmark (issue 5, acceptance 3): write amplification to the bucket and
# bucket requests per GiB written, for a volume filled to FILL % and then overwritten with uniform
# random 4 KiB writes in rounds, one explicit GC pass after each round (GcBench's javadoc).
# Counts, not timings: a busy machine does not change them. Each (fill, seed) run verifies every
# block against its model and fails if one differs. Prints per-round lines, one run= line per
# run and median / min / max per fill.
#   bench/gc.sh [SEEDS="1 2 3"] [FILLS="50 70 90"] [WORKDIR=bench/results/work-gc] [GcBench key=value...]
#   e.g. bench/gc.sh "1 2 3" "70" "" threshold=0.5        (GcBench's options: volumeMiB objectKiB
#        rounds roundFrac steadyRounds threshold checkpointEvery cacheMiB)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SEEDS="${1:-1 2 3}"; FILLS="${2:-50 70 90}"; WORK="${3:-}"; WORK="${WORK:-$ROOT/bench/results/work-gc}"
shift $(( $# < 3 ? $# : 3 ))
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
mkdir -p "$WORK"
results_file gc
echo "# bench/gc.sh seeds='$SEEDS' fills='$FILLS' options: $*" | tee "$out"
for fill in $FILLS; do
  part="$out.fill$fill"
  : > "$part"
  for seed in $SEEDS; do
    rm -rf "${WORK:?}"/*
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$CP" dev.strata.engine.bench.GcBench \
        "$WORK" "$fill" "$seed" "$@" 2>"$WORK.stderr" | tee -a "$part" | grep -v '^round=' || { cat "$WORK.stderr" >&2; exit 1; }
  done
  cat "$part" >> "$out"
  echo "summary fill=$fill" | tee -a "$out"
  python3 "$ROOT/bench/summarize.py" "$part" wa wa_with_headers wa_with_checkpoints gc_copy space_amp puts_per_GiB \
      data_puts_per_GiB gc_puts_per_GiB checkpoint_puts_per_GiB deletes_per_GiB gets_per_GiB get_bytes_per_byte lists_per_GiB | tee -a "$out"
  rm -f "$part"
done
echo "results in $out"
