#!/usr/bin/env bash
# latency-memory.sh — start-up, time to first token, long-context decode and peak memory.
#
#   benchmarks/latency-memory.sh MODEL [THREADS] [--reps N] [--depth 4096] [--with-llama]
#        [--json OUT]
#
# 1. Ready: `smolbot generate` of a 1-token prompt; its load_ms (file mapped, config and weights
#    bound, vocabulary built, session allocated) and the whole process's wall time.
# 2. Time to first token of a ~1,000-token chat prompt: a system prompt and a long user turn
#    rendered with the model's own chat template, prefilled in one call, one token sampled.
# 3. Decode at depth: `smolbot generate` of 64 greedy tokens after a DEPTH-token prompt (default
#    micro-batches, as a chat turn): decode tok/s with DEPTH tokens of context (attention reads
#    the whole KV cache every step), and the process's peak RSS against file size + KV cache +
#    300 MB (no second copy of the weights).
# --with-llama runs 2 and 3 through llama.cpp too (slow: its 4k prefill takes minutes here).
# Medians of --reps runs (default 3) for 1 and 2. Prints a table, writes JSON (default
# build/latency-memory.json). Needs build/bin/smolbot and gguf-inspect; measures, asserts
# nothing; never in CI.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() {
  sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
  exit 2
}
source "$root/benchmarks/args.sh"
bench_model_threads usage "$@"
set -- "${bench_rest[@]}"
reps=3
depth=4096
with_llama=0
json_out="$root/build/latency-memory.json"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --depth) depth="$2"; shift 2 ;;
    --with-llama) with_llama=1; shift ;;
    --json) json_out="$2"; shift 2 ;;
    *) echo "latency-memory.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
smolbot="$root/build/bin/smolbot"
for f in "$model" "$smolbot"; do
  [[ -f "$f" ]] || { echo "latency-memory.sh: $f does not exist" >&2; exit 1; }
done
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs a command under /usr/bin/time; stdout to $1, the time report to $1.time.
timed() {
  local out="$1"
  shift
  /usr/bin/time -v -o "$out.time" "$@" >"$out"
}

# A chat prompt of about 1,000 tokens: paragraphs are added until the rendering reaches it.
paragraph="The harbour town woke slowly: gulls argued over the fish market, a ferry sounded \
twice, and the baker on the corner pulled the first trays of bread from an oven older than \
anyone could remember. Write me a short story that starts here, and keep the details."
render() {  # $1 = number of paragraphs -> $work/prompt.ids
  python3 - "$1" "$paragraph" >"$work/messages.json" <<'PY'
import json, sys
n, p = int(sys.argv[1]), sys.argv[2]
print(json.dumps([{"role": "system", "content": "You are a careful, concise storyteller."},
                  {"role": "user", "content": "\n\n".join([p] * n)}]))
PY
  "$smolbot" apply-template --model "$model" --messages "$work/messages.json" \
    --date "22 November 2026" >"$work/prompt.txt"
  "$smolbot" tokenize --model "$model" --parse-special --json --file "$work/prompt.txt" |
    python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["ids"])))' \
      >"$work/prompt.ids"
  tr ',' '\n' <"$work/prompt.ids" | wc -l
}
n1=$(render 1)
n2=$(render 2)
per=$((n2 - n1))
k=$(( (1000 - n1 + per - 1) / per + 1 ))
n_chat=$(render "$k")
echo "chat prompt: $k paragraphs, $n_chat tokens"

for ((r = 1; r <= reps; ++r)); do
  echo "run $r/$reps: ready, time to first token"
  timed "$work/ready-$r.json" "$smolbot" generate --model "$model" --prompt-ids 13 -n 1 --json \
    -t "$threads"
  timed "$work/ttft-$r.json" "$smolbot" generate --model "$model" \
    --prompt-ids "$(cat "$work/prompt.ids")" -n 1 --json -t "$threads" --ctx $((n_chat + 64))
done
"$root/build/bin/gguf-inspect" --json "$model" >"$work/inspect.json"
echo "decode at depth $depth"
python3 -c "import sys; n=int(sys.argv[1]); print(','.join(str((i*7919+13)%128000) for i in range(n)))" \
  "$depth" >"$work/depth.ids"
timed "$work/depth.json" "$smolbot" generate --model "$model" --prompt-ids "$(cat "$work/depth.ids")" \
  -n 64 --json -t "$threads" --ctx $((depth + 128))
if ((with_llama)); then
  echo "llama.cpp: time to first token, decode at depth $depth"
  timed "$work/llama-ttft.json" node "$root/scripts/oracle/engine-bench-llama.mjs" \
    --model "$model" --prompt-ids-file "$work/prompt.ids" -n 1 --threads "$threads" -r "$reps"
  timed "$work/llama-depth.json" node "$root/scripts/oracle/engine-bench-llama.mjs" \
    --model "$model" -p "$depth" -n 64 --threads "$threads" -r 1
fi

python3 - "$work" "$reps" "$model" "$threads" "$depth" "$n_chat" "$with_llama" "$json_out" <<'PY'
import json, os, re, statistics, sys
work, reps, model, threads, depth, n_chat, with_llama, out = sys.argv[1:]
reps, threads, depth, n_chat, with_llama = int(reps), int(threads), int(depth), int(n_chat), int(with_llama)

def last_json(path):
    return json.loads([l for l in open(path).read().splitlines() if l.startswith("{")][-1])

def time_report(path):  # wall seconds and peak RSS bytes from /usr/bin/time -v
    text = open(path + ".time").read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) * 1024
    h, m, s = (["0", "0"] + re.search(r"Elapsed \(wall clock\) time.*: ([\d:.]+)", text).group(1).split(":"))[-3:]
    return float(h) * 3600 + float(m) * 60 + float(s), rss

med = statistics.median
ready = [last_json(f"{work}/ready-{r}.json") for r in range(1, reps + 1)]
ttft = [last_json(f"{work}/ttft-{r}.json") for r in range(1, reps + 1)]
load_ms = med(x["timings"]["load_ms"] for x in ready)
ready_wall = med(time_report(f"{work}/ready-{r}.json")[0] for r in range(1, reps + 1))
ttft_ms = med(1000 * n_chat / x["timings"]["prefill_tok_s"] for x in ttft)
deep = last_json(f"{work}/depth.json")["timings"]
deep_rss = time_report(f"{work}/depth.json")[1]
file_bytes = os.path.getsize(model)
# KV cache of the generate run: per layer 2 (K, V) x n_head_kv x n_ctx x head_dim f16 values.
arch = json.load(open(f"{work}/inspect.json"))["arch"]
kv_bytes = arch["n_layer"] * 2 * arch["n_head_kv"] * (depth + 128) * arch["head_dim"] * 2
budget = file_bytes + kv_bytes + 300e6
report = {"model": model, "threads": threads, "reps": reps, "load_average": os.getloadavg()[0],
          "ready_load_ms": load_ms, "ready_process_wall_s": ready_wall,
          "chat_prompt_tokens": n_chat, "ttft_ms": ttft_ms,
          "depth": depth, "decode_tok_s_at_depth": deep["decode_tok_s"],
          "prefill_tok_s_at_depth": deep["prefill_tok_s"], "peak_rss_bytes": deep_rss,
          "file_bytes": file_bytes, "kv_bytes": kv_bytes, "rss_budget_bytes": budget}
print(f"\nmodel {model}, {threads} threads, load average {report['load_average']:.2f}")
print("| measure | ours | llama.cpp |")
print("|---|---|---|")
llama = {}
if with_llama:
    lt = last_json(f"{work}/llama-ttft.json")
    ld = last_json(f"{work}/llama-depth.json")
    llama = {"ttft_ms": 1000 * n_chat / lt["prefill_tok_s"], "load_ms": lt["load_ms"],
             "decode_tok_s_at_depth": ld["decode_tok_s"],
             "peak_rss_bytes": time_report(f"{work}/llama-depth.json")[1]}
    report["llama_cpp"] = llama
fmt = lambda k, f: f(llama[k]) if k in llama else "not run"
print(f"| ready (load, process wall of a 1-token run) | {load_ms:.0f} ms, {ready_wall:.2f} s | {fmt('load_ms', lambda v: f'{v:.0f} ms')} |")
print(f"| time to first token, {n_chat}-token chat prompt | {ttft_ms:.0f} ms | {fmt('ttft_ms', lambda v: f'{v:.0f} ms')} |")
print(f"| decode at {depth} tokens of context | {deep['decode_tok_s']:.2f} tok/s | {fmt('decode_tok_s_at_depth', lambda v: f'{v:.2f} tok/s')} |")
print(f"| peak RSS, {depth}-token run | {deep_rss / 1e9:.3f} GB | {fmt('peak_rss_bytes', lambda v: f'{v / 1e9:.3f} GB')} |")
print(f"\npeak RSS {deep_rss / 1e9:.3f} GB vs file {file_bytes / 1e9:.3f} + KV {kv_bytes / 1e9:.3f} "
      f"+ 0.300 = {budget / 1e9:.3f} GB: {'within' if deep_rss <= budget else 'OVER'}")
os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
json.dump(report, open(out, "w"), indent=1)
print(f"JSON: {out}")
PY
