#!/usr/bin/env node
// engine-bench-llama.mjs — llama.cpp's prefill and decode speed on a GGUF, measured the way
// `smolbot bench` measures ours: one prefill of -p tokens, then -n greedy single-token steps,
// median of -r reps on a fresh context, wall clock (the JavaScript layer adds a few ms per
// decoded token, so decode is slightly pessimistic for llama.cpp).
//
//   node scripts/oracle/engine-bench-llama.mjs --model F [-p 512] [-n 128] [--threads 2] [-r 3]
//        [--prompt-ids-file F]
// --prompt-ids-file: a comma-separated id list to prefill instead of -p synthetic ids (a rendered
// chat prompt, for time to first token).
import {readFileSync} from 'node:fs';

import {Oracle, parseArgs, runCli} from './llama.mjs';

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

runCli(async () => {
  const args = parseArgs(process.argv.slice(2));
  if (!args.model) throw new Error('usage: engine-bench-llama.mjs --model F [-p 512] [-n 128]');
  const fileIds = args['prompt-ids-file'] ?
      readFileSync(args['prompt-ids-file'], 'utf8').trim().split(',').map(Number) : null;
  const p = fileIds ? fileIds.length : Number(args.p ?? 512);
  const n = Number(args.n ?? 128);
  const reps = Number(args.r ?? 3);
  const threads = Number(args.threads ?? 2);
  const t0 = performance.now();
  const oracle = await Oracle.open(args.model, {contextSize: p + n + 64, threads});
  const loadMs = performance.now() - t0;
  const nVocab = oracle.nVocab;
  // Same ids as smolbot bench: (i * 7919 + 13) % n_vocab.
  const prompt = fileIds ?? Array.from({length: p}, (_, i) => (i * 7919 + 13) % nVocab);
  const pp = [];
  const tg = [];
  for (let r = 0; r < reps; ++r) {
    await oracle.sequence.clearHistory();
    const next = {generateNext: {token: true, options: {temperature: 0}}};
    const items = prompt.map((id, i) => (i === p - 1 ? [id, next] : id));
    let t = performance.now();
    let res = await oracle.sequence.controlledEvaluate(items);
    pp.push(p / ((performance.now() - t) / 1e3));
    let tok = res[p - 1].next.token;
    t = performance.now();
    for (let i = 0; i < n; ++i) {
      res = await oracle.sequence.controlledEvaluate([[tok, next]]);
      tok = res[0].next.token;
    }
    tg.push(n / ((performance.now() - t) / 1e3));
  }
  await oracle.close();
  console.log(JSON.stringify({model: args.model, threads, n_prompt: p, n_gen: n, reps,
    prefill_tok_s: median(pp), decode_tok_s: median(tg), load_ms: loadMs, prefill_runs: pp,
    decode_runs: tg}));
});
