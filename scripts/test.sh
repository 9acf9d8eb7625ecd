#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. Release build + all tests (unit, golden, differential against llama.cpp, tools)
#   2. AddressSanitizer + UBSan build + all tests
#   3. the GGUF reader fuzzer for SMOL_FUZZ_SECONDS (default 60) under clang
# Set SMOL_SKIP_ASAN=1 or SMOL_SKIP_FUZZ=1 to skip a stage locally (CI runs all of them).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh

echo "== release build"
./scripts/build.sh release
echo "== release tests"
ctest --test-dir build --output-on-failure -j "${SMOL_TEST_JOBS:-2}"

if [ "${SMOL_SKIP_ASAN:-0}" != 1 ]; then
  echo "== asan+ubsan build"
  ./scripts/build.sh asan
  echo "== asan+ubsan tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "${SMOL_TEST_JOBS:-2}"
fi

if [ "${SMOL_SKIP_FUZZ:-0}" != 1 ] && [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "== fuzz"
  ./scripts/build.sh fuzz
  ./scripts/fuzz.sh "${SMOL_FUZZ_SECONDS:-60}"
fi
echo "== all tests passed"
