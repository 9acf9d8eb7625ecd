#!/usr/bin/env bash
# Bounded load test of a local smolbot server over the OpenAI streaming API (loopback only).
#
#   scripts/load-test.sh [--url http://127.0.0.1:8080] [-c 32] [-n 64] [--rounds 3]
#                        [--max-tokens 32] [--model F [--smolbot build/bin/smolbot] [--threads 1]]
#
# With --model it starts its own server (port 0, temporary data dir), reports the server's
# resident memory after each round, and stops it at the end. Per round it prints: requests,
# failures (anything but a documented 503), 503s, p50/p99 time to first token (first reasoning
# or content delta), aggregate generated tok/s and the server RSS. Exit status 1 if any request
# failed. Only loopback URLs are accepted: this is not a tool to load someone else's server.
set -euo pipefail
cd "$(dirname "$0")/.."

url=http://127.0.0.1:8080
concurrency=32
requests=64
rounds=3
max_tokens=32
model=""
smolbot=build/bin/smolbot
threads=1
while (($#)); do
  case "$1" in
    --url) url=$2; shift 2 ;;
    -c) concurrency=$2; shift 2 ;;
    -n) requests=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --max-tokens) max_tokens=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --smolbot) smolbot=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "load-test: unknown option $1" >&2; exit 2 ;;
  esac
done
for v in "$concurrency" "$requests" "$rounds" "$max_tokens"; do
  [[ "$v" =~ ^[0-9]+$ ]] && ((v >= 1 && v <= 100000)) || { echo "load-test: bad number $v" >&2; exit 2; }
done

server_pid=""
data_dir=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$data_dir" ] && rm -rf "$data_dir"
}
trap cleanup EXIT

if [ -n "$model" ]; then
  data_dir=$(mktemp -d)
  log="$data_dir/server.log"
  "$smolbot" serve --model "$model" --port 0 --data-dir "$data_dir" --max-queue 256 \
    --threads "$threads" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "load-test: server did not start:" >&2; cat "$log" >&2; exit 1; }
  for _ in $(seq 600); do
    curl -fs "$url/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

case "$url" in
  http://127.0.0.1:*|http://localhost:*|http://\[::1\]:*) ;;
  *) echo "load-test: only loopback URLs are allowed, got $url" >&2; exit 2 ;;
esac

export LT_URL=${url%/} LT_C=$concurrency LT_N=$requests LT_ROUNDS=$rounds LT_MAX=$max_tokens
export LT_PID=$server_pid
node --input-type=module - <<'EOF'
import { readFileSync } from 'node:fs';
import http from 'node:http';
const url = process.env.LT_URL, C = +process.env.LT_C, N = +process.env.LT_N;
const rounds = +process.env.LT_ROUNDS, maxTokens = +process.env.LT_MAX, pid = process.env.LT_PID;

function rssMb() {
  if (!pid) return 'n/a';
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return m ? (m[1] / 1024).toFixed(1) : 'n/a';
}
function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

// node:http rather than fetch: fetch gives up after 300 s without response headers, and a
// streaming request queued behind busy slots gets its headers only once a slot takes it.
function one(i) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const body = JSON.stringify({
      messages: [{ role: 'user', content: `Load test request ${i}: tell me a story.` }],
      max_tokens: maxTokens, stream: true, stream_options: { include_usage: true },
    });
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let buf = '', ttft = null, tokens = 0, done = false, failure = null;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        if (res.statusCode !== 200) return;
        let k;
        while ((k = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, k); buf = buf.slice(k + 2);
          if (!block.startsWith('data: ')) continue;
          const data = block.slice(6);
          if (data === '[DONE]') { done = true; continue; }
          const j = JSON.parse(data);
          if (j.error) failure = JSON.stringify(j.error);
          const d = j.choices?.[0]?.delta;
          if (ttft === null && d && (d.content || d.reasoning_content)) ttft = performance.now() - t0;
          if (j.usage) tokens = j.usage.completion_tokens;
        }
      });
      res.on('end', () => {
        if (res.statusCode === 503) return resolve({ status: 503 });
        if (res.statusCode !== 200) return resolve({ status: res.statusCode, error: buf });
        if (failure) return resolve({ status: 500, error: failure });
        if (!done) return resolve({ status: 500, error: 'stream ended without [DONE]' });
        resolve({ status: 200, ttft: ttft ?? performance.now() - t0, tokens });
      });
      res.on('error', (e) => resolve({ status: -1, error: String(e) }));
    });
    req.on('error', (e) => resolve({ status: -1, error: String(e) }));
    req.end(body);
  });
}

let failedTotal = 0;
console.log(`load-test: ${url} concurrency ${C}, ${N} requests/round, ${rounds} rounds, max_tokens ${maxTokens}`);
console.log('round  ok  failed  503  ttft_p50_ms  ttft_p99_ms  tok/s  rss_mb');
for (let r = 1; r <= rounds; r++) {
  let next = 0;
  const results = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < N) {
      const i = next++;
      try { results.push(await one(i)); } catch (e) { results.push({ status: -1, error: String(e) }); }
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const ok = results.filter((x) => x.status === 200);
  const busy = results.filter((x) => x.status === 503).length;
  const failed = results.filter((x) => x.status !== 200 && x.status !== 503);
  failedTotal += failed.length;
  const ttfts = ok.map((x) => x.ttft).sort((a, b) => a - b);
  const toks = ok.reduce((s, x) => s + x.tokens, 0);
  console.log(`${String(r).padStart(5)} ${String(ok.length).padStart(3)} ${String(failed.length).padStart(7)} ` +
    `${String(busy).padStart(4)} ${pct(ttfts, 0.5).toFixed(1).padStart(12)} ${pct(ttfts, 0.99).toFixed(1).padStart(12)} ` +
    `${(toks / wall).toFixed(1).padStart(6)} ${String(rssMb()).padStart(7)}`);
  for (const f of failed.slice(0, 3)) console.log(`  failure: status ${f.status}: ${f.error}`);
}
process.exit(failedTotal ? 1 : 0);
EOF
