#!/usr/bin/env node
// Teacher-forced llama.cpp logits at every prompt position, plus a greedy continuation.
//
//   node scripts/oracle/logits.mjs --model F (--ids 1,2,3 | --prompt TEXT [--special])
//        --out-bin logits.f32 [--out-json info.json] [-n 8] [--threads 2]
//   logits.f32: little-endian f32 [n_tokens][n_vocab]; row p = logits after prompt[0..p].
//   info.json:  {model, n_tokens, n_vocab, prompt_ids, argmax[], top2_gap[], greedy_ids[]}
import {writeFileSync} from 'node:fs';

import {Oracle, kContextHeadroom, parseArgs, parseIdList, runCli, topTwo} from './llama.mjs';

runCli(async () => {
  const args = parseArgs(process.argv.slice(2), {flags: ['special']});
  if (!args.model || !args['out-bin']) {
    throw new Error('usage: logits.mjs --model F (--ids L | --prompt T) --out-bin F [-n N]');
  }
  const n = Number(args.n ?? 8);
  if (!Number.isInteger(n) || n < 0) throw new Error('-n must be a non-negative integer');
  const oracle0 = await Oracle.openVocabOnly(args.model);
  let promptIds;
  if (args.ids !== undefined) promptIds = parseIdList(String(args.ids));
  else if (args.prompt !== undefined) promptIds = oracle0.tokenize(String(args.prompt), !!args.special);
  else throw new Error('give --ids LIST or --prompt TEXT');
  await oracle0.close();
  if (promptIds.length === 0) throw new Error('the prompt has no tokens');

  const oracle = await Oracle.open(args.model, {
    contextSize: promptIds.length + n + kContextHeadroom,
    threads: Number(args.threads ?? 2),
  });
  const nVocab = oracle.nVocab;
  for (const id of promptIds) {
    if (id >= nVocab) throw new Error(`token id ${id} is outside the vocabulary (${nVocab})`);
  }
  const logits = await oracle.logits(promptIds, nVocab);
  const greedyIds = await oracle.greedy(promptIds, n);
  await oracle.close();

  // Always little-endian on disk, whatever the host.
  const buf = Buffer.alloc(logits.length * 4);
  for (let i = 0; i < logits.length; ++i) buf.writeFloatLE(logits[i], i * 4);
  writeFileSync(args['out-bin'], buf);
  const {argmax, gap} = topTwo(logits, nVocab);
  const info = {
    model: args.model,
    n_tokens: promptIds.length,
    n_vocab: nVocab,
    prompt_ids: promptIds,
    argmax,
    top2_gap: gap,
    greedy_ids: greedyIds,
  };
  const json = JSON.stringify(info) + '\n';
  if (args['out-json']) writeFileSync(args['out-json'], json);
  else process.stdout.write(json);
});
