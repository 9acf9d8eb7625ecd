# args.sh — sourced by the benchmark scripts: their common `MODEL [THREADS] [options]` head.
#
#   bench_model_threads USAGE_FN "$@"
#
# Sets `model` and `threads` (default 2) and leaves the remaining options in `bench_rest`.
# Calls USAGE_FN (which must exit) when MODEL is missing.
bench_model_threads() {
  local usage_fn="$1"
  shift
  [[ $# -ge 1 ]] || "$usage_fn"
  model="$1"
  shift
  threads=2
  if [[ $# -ge 1 && "$1" =~ ^[0-9]+$ ]]; then
    threads="$1"
    shift
  fi
  bench_rest=("$@")
}
