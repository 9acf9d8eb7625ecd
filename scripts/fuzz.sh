#!/usr/bin/env bash
# Runs every libFuzzer target in build-fuzz/bin for SECONDS each (default 60) on its committed
# seed corpus; exits non-zero on any crash, leak, timeout or sanitizer report.
#   scripts/build.sh fuzz && scripts/fuzz.sh 60
# Crashing inputs are kept in build-fuzz/fuzz-artifacts/ (reproduce: build-fuzz/bin/<fuzzer> FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
fuzzers=(gguf_reader_fuzz)

artifacts=build-fuzz/fuzz-artifacts
mkdir -p "$artifacts"
for name in "${fuzzers[@]}"; do
  bin=build-fuzz/bin/$name
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is missing; run scripts/build.sh fuzz first" >&2
    exit 1
  fi
  # libFuzzer adds new inputs to its first corpus directory: give it a scratch copy so the
  # committed seeds stay as they are.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp tests/fuzz/corpus/* "$work"/
  echo "fuzz: $name for ${seconds}s on $(ls "$work" | wc -l) seeds"
  log=build-fuzz/$name.log
  status=0
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict=tests/fuzz/gguf.dict -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" >"$log" 2>&1 || status=$?
  tail -n 25 "$log"
  rm -rf "$work"
  trap - EXIT
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $name FAILED (exit $status); crashing input under $artifacts/" >&2
    exit 1
  fi
  echo "fuzz: $name clean"
done
