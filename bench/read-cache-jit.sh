#!/usr/bin/env bash
# How much of each phase of the cold-read bench the JIT compilers still spend compiling, round by
# round (issue 4): runs one ColdReadBench JVM under a flight recording of every compilation and
# deoptimization, splits them by the bench's phase marks, and prints per phase the compile time
# against the phase's wall time, then the methods compiled in the last three cold phases.
#   bench/read-cache-jit.sh [VOLUME_MIB=512] [ROUNDS=3] [WARMUP=6] [LATENCY_MS=0]   (BENCH_JAVA_OPTS: extra JVM options)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MIB="${1:-512}"; ROUNDS="${2:-3}"; WARMUP="${3:-6}"; LATENCY="${4:-0}"
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
D="$ROOT/bench/results/read-cache-jit-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$D"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC -Xmx2g ${BENCH_JAVA_OPTS:-} \
  -XX:StartFlightRecording=filename="$D/rec.jfr",settings=default,jdk.Compilation#threshold=0ms,jdk.Deoptimization#enabled=true \
  -cp "$CP" dev.strata.engine.bench.ColdReadBench "$D/work" "$MIB" 1 "$ROUNDS" "$WARMUP" "$LATENCY" 2>"$D/phases.txt" \
  | grep -E '^(run=|#)' | tee "$D/bench.txt"
rm -rf "$D/work"
"$JAVA_HOME/bin/jfr" print --json --events jdk.Compilation,jdk.Deoptimization "$D/rec.jfr" > "$D/events.json"
python3 "$ROOT/bench/jit_phases.py" "$D/events.json" "$D/phases.txt" | tee "$D/jit.txt"
rm -f "$D/events.json"
