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
