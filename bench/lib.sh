# Shared helpers of the bench scripts (sourced).
find_java() {
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
    if [ -n "$d" ] && [ -x "$d/bin/java" ] && "$d/bin/java" -version 2>&1 | grep -Eq 'version "(2[5-9]|[3-9][0-9])'; then
      export JAVA_HOME="$d"; return 0
    fi
  done
  echo "bench: needs JDK 25" >&2; exit 1
}
# Sets CP to the engine's classes, its test classes (the benchmarks) and dependencies.
build_engine_test_classpath() {
  (cd "$ROOT" && ./mvnw -q -B -DskipTests -pl cache-engine -am install \
     && ./mvnw -q -B -pl cache-engine dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test) >&2
  CP="$ROOT/cache-engine/target/classes:$ROOT/cache-engine/target/test-classes:$(cat "$ROOT/cache-engine/target/bench.cp")"
  export CP
}
# Sets CP to the engine's classes and test classes only (benchmarks with no dependencies), compiled offline.
build_engine_classes() {
  (cd "$ROOT" && ./mvnw -q -B -o -pl cache-engine test-compile) >&2
  CP="$ROOT/cache-engine/target/classes:$ROOT/cache-engine/target/test-classes"
  export CP
}
# results_file NAME: sets out to a new, empty bench/results/NAME-<date-time>.txt.
results_file() {
  mkdir -p "$ROOT/bench/results"
  out="$ROOT/bench/results/$1-$(date +%Y%m%d-%H%M%S).txt"
  : > "$out"
}
# start_isolated_s3proxy DIR [JVM OPTION...]: S3Proxy (filesystem backend under DIR, bucket "bench")
# in a JVM of its own pinned to CPU 0, for benches that pin their reader to CPU 1 and so keep the
# server's work off the reader's core (docs/benchmarks.md, "The server on a core of its own").
# Sets S3P_ENDPOINT; stop_isolated_s3proxy ends it (closing its input).
start_isolated_s3proxy() {
  if [ "$(nproc)" -lt 2 ]; then
    echo "bench: ISOLATED=1 needs two CPUs (the server on CPU 0, the reader on CPU 1); this machine has $(nproc)" >&2; exit 1
  fi
  command -v taskset >/dev/null || { echo "bench: ISOLATED=1 needs taskset (util-linux)" >&2; exit 1; }
  local dir="$1"; shift
  mkdir -p "$dir"
  coproc S3P { exec taskset -c 0 "$JAVA_HOME/bin/java" -XX:+UseZGC -Xmx1g "$@" -cp "$CP" dev.strata.engine.bench.S3ProxyMain "$dir" bench 2>/dev/null; }
  S3P_JVM_PID=$S3P_PID
  local line
  read -r line <&"${S3P[0]}" || { echo "bench: S3Proxy did not start" >&2; exit 1; }
  S3P_ENDPOINT="${line#endpoint=}"
}
stop_isolated_s3proxy() {
  eval "exec ${S3P[1]}>&-"
  wait "$S3P_JVM_PID" || true
}
