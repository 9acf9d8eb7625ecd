#!/usr/bin/env bash
# compare-llamacpp.sh — our engine against llama.cpp on the same GGUF file and thread count.
#
#   benchmarks/compare-llamacpp.sh MODEL [THREADS] [--rounds N] [-p 512] [-n 128] [--json OUT]
#                                  [--llama-cpu-variant NAME]
#
# Runs `smolbot bench` (A) and llama.cpp through node-llama-cpp (B) alternately, A B A B, for
# N rounds (default 3), each a 512-token prefill then 128 greedy decode steps on a fresh context,
# so a disturbance from other work on the machine hits both engines alike. Right before each of
# our runs it measures the machine's read bandwidth (matmul_bench, 256 MiB buffer, same thread
# count) to give that round's speed-of-light figure for decode: bandwidth / bytes read per token,
# reported two ways: the weights alone, and the weights plus the K and V rows a step also reads
# (the prompt's 512 positions and up; `smolbot bench` reports the average per step). (On a
# shared cloud machine the bandwidth swings by 10-20% from one minute to the next; one probe
# before all rounds judged a decode minutes later against another phase.) A second probe reads
# the model file itself through a mapping (decode_stream_bench --file): the page-cache pages
# decode reads, where the first probe's fresh buffer may sit on faster or slower memory; the
# decode fraction is printed against both.
# Prints every round, then a table of medians with the ratios, and writes all of it as JSON
# (default build/compare-llamacpp.json).
#
# llama.cpp loads the best of its prebuilt CPU variants for the machine (on a Zen 4: `zen4`, with
# AVX-512). --llama-cpu-variant NAME (e.g. `haswell`, its AVX2 build) runs it with only that one
# present, in a scratch copy of node_modules (hard links where the filesystem allows), to compare
# like with like, e.g. with `SMOL_ISA=avx2` set for ours.
#
# Needs: build/bin/smolbot and build/bin/matmul_bench (scripts/build.sh release) and
# node_modules (scripts/deps.sh). Never run in CI: it measures, it asserts nothing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() {
  sed -n '4p' "${BASH_SOURCE[0]}" | sed 's/^#   //' >&2
  exit 2
}

source "$root/benchmarks/args.sh"
bench_model_threads usage "$@"
set -- "${bench_rest[@]}"
rounds=3
n_prompt=512
n_gen=128
json_out="$root/build/compare-llamacpp.json"
llama_variant=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    -p) n_prompt="$2"; shift 2 ;;
    -n) n_gen="$2"; shift 2 ;;
    --json) json_out="$2"; shift 2 ;;
    --llama-cpu-variant) llama_variant="$2"; shift 2 ;;
    *) echo "compare-llamacpp.sh: unknown option '$1'" >&2; usage ;;
  esac
done

smolbot="$root/build/bin/smolbot"
matmul_bench="$root/build/bin/matmul_bench"
stream_bench="$root/build/bin/decode_stream_bench"
for f in "$model" "$smolbot" "$matmul_bench" "$stream_bench"; do
  if [[ ! -f "$f" ]]; then
    echo "compare-llamacpp.sh: $f does not exist (build with scripts/build.sh release)" >&2
    exit 1
  fi
done
if [[ ! -d "$root/node_modules/node-llama-cpp" ]]; then
  echo "compare-llamacpp.sh: node-llama-cpp is missing (run scripts/deps.sh)" >&2
  exit 1
fi
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

llama_root="$root"
if [[ -n "$llama_variant" ]]; then
  bins="node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
  if [[ ! -f "$root/$bins/libggml-cpu-$llama_variant.so" ]]; then
    echo "compare-llamacpp.sh: no llama.cpp CPU variant '$llama_variant'; there are:" \
      $(cd "$root/$bins" && ls libggml-cpu-*.so | sed 's/^libggml-cpu-//; s/\.so$//') >&2
    exit 1
  fi
  llama_root="$work/llama-root"
  mkdir -p "$llama_root/scripts"
  cp -r "$root/scripts/oracle" "$llama_root/scripts/"
  cp -al "$root/node_modules" "$llama_root/node_modules" 2>/dev/null ||
    cp -a "$root/node_modules" "$llama_root/node_modules"
  # Unlinks the scratch copy's entries only; the originals stay.
  find "$llama_root/$bins" -name 'libggml-cpu-*.so' ! -name "libggml-cpu-$llama_variant.so" -delete
fi

# The ceiling at T threads is what T threads can read: on a server chip a few cores cannot
# saturate the memory system, so the all-core figure would understate decode at 4 threads.
bw_threads="$threads"
(( bw_threads > $(nproc) )) && bw_threads="$(nproc)"
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds: read bandwidth ($bw_threads threads, 256 MiB)"
  "$matmul_bench" --benchmark_filter="^read_bandwidth/256MiB/threads:${bw_threads}/" \
    --benchmark_min_time=0.5 --benchmark_format=json >"$work/bandwidth-$r.json"
  "$stream_bench" --file "$model" --threads "$bw_threads" --passes 3 >"$work/file-read-$r.txt"
  echo "round $r/$rounds: ours"
  head -1 /proc/stat >"$work/stat-$r.before"
  "$smolbot" bench --model "$model" -p "$n_prompt" -n "$n_gen" -t "$threads" -r 1 --json \
    >"$work/ours-$r.json"
  head -1 /proc/stat >"$work/stat-$r.after"
  echo "round $r/$rounds: llama.cpp"
  node "$llama_root/scripts/oracle/engine-bench-llama.mjs" --model "$model" -p "$n_prompt" \
    -n "$n_gen" --threads "$threads" -r 1 >"$work/llama-$r.json"
done

python3 - "$work" "$rounds" "$model" "$threads" "$json_out" "${llama_variant:-best}" <<'PY'
import json, os, statistics, sys

work, rounds, model, threads, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
llama_variant = sys.argv[6]
def last_json(path):  # node may log lines before the result
    lines = [l for l in open(path).read().splitlines() if l.startswith('{')]
    return json.loads(lines[-1])
bws = [json.load(open(f"{work}/bandwidth-{r}.json"))["benchmarks"][0]["bytes_per_second"]
       for r in range(1, rounds + 1)]
ours = [last_json(f"{work}/ours-{r}.json") for r in range(1, rounds + 1)]
llama = [last_json(f"{work}/llama-{r}.json") for r in range(1, rounds + 1)]
def file_read(r):
    for line in open(f"{work}/file-read-{r}.txt"):
        if line.startswith("file_read_bytes_per_second "):
            return float(line.split()[1])
    raise SystemExit(f"no file_read_bytes_per_second in round {r}'s file probe")
file_bws = [file_read(r) for r in range(1, rounds + 1)]
weight_bytes = ours[0]["weight_bytes"]
bw = statistics.median(bws)
ceiling = bw / weight_bytes
kv_read = ours[0]["decode_kv_read_bytes"]
# Each round's decode against the bandwidth measured just before it.
fractions = [o["decode_tok_s"] * weight_bytes / b for o, b in zip(ours, bws)]
fractions_kv = [o["decode_tok_s"] * (weight_bytes + kv_read) / b for o, b in zip(ours, bws)]
fractions_file = [o["decode_tok_s"] * weight_bytes / b for o, b in zip(ours, file_bws)]
med = lambda runs, key: statistics.median(x[key] for x in runs)
# Share of the CPU time the hypervisor gave to others during our run (/proc/stat "steal"): on a
# shared VM a slow round with steal > 0 lost cycles, not bandwidth.
def steal_share(r):
    a, b = (list(map(int, open(f"{work}/stat-{r}.{w}").read().split()[1:]))
            for w in ("before", "after"))
    d = [y - x for x, y in zip(a, b)]
    return d[7] / max(1, sum(d[:8])) if len(d) > 7 else 0.0
steals = [steal_share(r) for r in range(1, rounds + 1)]
load = os.getloadavg()[0]

print(f"\nmodel {model}: {weight_bytes / 1e9:.3f} GB of weights, {threads} threads, isa {ours[0]['isa']}, "
      f"llama.cpp CPU variant {llama_variant}")
print(f"read bandwidth median {bw / 1e9:.1f} GB/s -> decode ceiling {ceiling:.1f} tok/s; "
      f"load average {load:.2f}")
for r in range(rounds):
    print(f"round {r + 1}: ours pp {ours[r]['prefill_tok_s']:7.2f} tg {ours[r]['decode_tok_s']:6.2f} "
          f"({100 * fractions[r]:.0f}% / {100 * fractions_kv[r]:.0f}% of {bws[r] / 1e9:.1f} GB/s, "
          f"{100 * fractions_file[r]:.0f}% of the file's {file_bws[r] / 1e9:.1f} GB/s, "
          f"steal {100 * steals[r]:.1f}%) | "
          f"llama.cpp pp {llama[r]['prefill_tok_s']:7.2f} tg {llama[r]['decode_tok_s']:6.2f}")
rows = []
for name, key in (("prefill", "prefill_tok_s"), ("decode", "decode_tok_s")):
    a, b = med(ours, key), med(llama, key)
    rows.append({"metric": name, "ours_tok_s": a, "llama_tok_s": b, "ratio": a / b})
n_p, n_g = ours[0]["n_prompt"], ours[0]["n_gen"]
print(f"\n| median of {rounds} | ours tok/s | llama.cpp tok/s | ratio |")
print("|---|---|---|---|")
for row in rows:
    label = f"prefill {n_p}" if row["metric"] == "prefill" else f"decode {n_g}"
    print(f"| {label} | {row['ours_tok_s']:.2f} | {row['llama_tok_s']:.2f} | {row['ratio']:.2f} |")
dec = rows[1]["ours_tok_s"]
fraction = statistics.median(fractions)
fraction_kv = statistics.median(fractions_kv)
fraction_file = statistics.median(fractions_file)
print(f"\ndecode at {100 * fraction:.0f}% of the bandwidth ceiling counting the weights "
      f"({weight_bytes / 1e9:.3f} GB per token), {100 * fraction_kv:.0f}% counting the KV cache "
      f"reads too (+{kv_read / 1e6:.0f} MB per token on average); medians over rounds, each "
      f"against its own probe ({dec * weight_bytes / 1e9:.1f} GB/s of weights at the median "
      f"decode, {100 * dec / ceiling:.0f}% of the median bandwidth); against the model file's own "
      f"read speed (median of rounds): {100 * fraction_file:.0f}%")
report = {"model": model, "threads": threads, "rounds": rounds, "isa": ours[0]["isa"],
          "llama_cpu_variant": llama_variant,
          "read_bandwidth_bytes_s": bw, "read_bandwidth_per_round": bws,
          "weight_bytes": weight_bytes, "decode_ceiling_tok_s": ceiling,
          "decode_fraction_of_ceiling": fraction, "decode_fraction_per_round": fractions,
          "decode_kv_read_bytes": kv_read, "decode_fraction_with_kv": fraction_kv,
          "decode_fraction_with_kv_per_round": fractions_kv,
          "file_read_bandwidth_per_round": file_bws, "decode_fraction_of_file_read": fraction_file,
          "decode_fraction_of_file_read_per_round": fractions_file,
          "cpu_steal_share_per_round": steals,
          "load_average": load, "summary": rows, "ours": ours, "llama_cpp": llama}
os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
json.dump(report, open(out, "w"), indent=1)
print(f"JSON: {out}")
PY
