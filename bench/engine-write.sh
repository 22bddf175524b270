#!/usr/bin/env bash
# Engine write benchmark (issue: the log-structured volume, acceptance 6).
# 4 KiB random writes through the engine with a flush every 32 writes, against two peers on
# the same disk in the same run: fio's sequential 1 MiB write rate (the disk's own ceiling)
# and fio doing the same 4 KiB random writes with an fdatasync every 32 directly on a file.
# Prints median / min / max over REPS runs and the ratios.
#   bench/engine-write.sh [REPS=5] [MIB=512] [WORKDIR=bench/results/work]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-5}"; MIB="${2:-512}"; WORK="${3:-$ROOT/bench/results/work}"
. "$ROOT/bench/lib.sh"
find_java
build_engine_test_classpath
mkdir -p "$WORK"
results_file engine-write
for i in $(seq 1 "$REPS"); do
  rm -rf "$WORK"/*
  fio --name=seq --directory="$WORK" --rw=write --bs=1M --size=${MIB}M --direct=1 --ioengine=libaio --iodepth=8 \
      --end_fsync=1 --output-format=json > "$WORK/fio-seq.json"
  seq_mbps=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["jobs"][0]["write"]["bw_bytes"]/1e6)' "$WORK/fio-seq.json")
  rm -f "$WORK"/seq*
  fio --name=rnd --directory="$WORK" --rw=randwrite --bs=4k --size=1G --io_size=${MIB}M --fdatasync=32 \
      --ioengine=psync --output-format=json > "$WORK/fio-rnd.json"
  rnd_mbps=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["jobs"][0]["write"]["bw_bytes"]/1e6)' "$WORK/fio-rnd.json")
  rm -f "$WORK"/rnd*
  line=$("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$CP" dev.strata.engine.bench.EngineWriteBench "$WORK/engine" "$MIB" 1 2>/dev/null | tail -1)
  eng_mbps=$(echo "$line" | sed -E 's/.*engine_MBps=([0-9.]+).*/\1/')
  puts=$(echo "$line" | sed -E 's/.*puts_per_GiB=([0-9.]+).*/\1/')
  echo "run=$i fio_seq_MBps=$seq_mbps fio_rand4k_fdatasync32_MBps=$rnd_mbps $line" | tee -a "$out"
done
python3 "$ROOT/bench/summarize.py" "$out" engine_MBps fio_seq_MBps fio_rand4k_fdatasync32_MBps puts_per_GiB \
  --ratio engine_MBps/fio_seq_MBps --ratio engine_MBps/fio_rand4k_fdatasync32_MBps | tee -a "$out"
