#!/usr/bin/env node
// Greedy generation with llama.cpp: prints {model, prompt_ids, ids, text} as JSON.
//
//   node scripts/oracle/generate.mjs --model F (--prompt TEXT [--special] | --ids 1,2,3)
//        [-n 16] [--threads 2] [--stop-eog] [--out FILE]
import {writeFileSync} from 'node:fs';

import {Oracle, kContextHeadroom, parseArgs, parseIdList, runCli} from './llama.mjs';

// llama.cpp's end-of-generation set for SmolLM3 (facts §3.3).
const kEogIds = [128001, 128008, 128009, 128012];

runCli(async () => {
  const args = parseArgs(process.argv.slice(2), {flags: ['special', 'stop-eog']});
  if (!args.model) throw new Error('usage: generate.mjs --model F (--prompt T | --ids 1,2) [-n N]');
  const n = Number(args.n ?? 16);
  if (!Number.isInteger(n) || n < 0) throw new Error(`-n must be a non-negative integer`);
  const vocab = await Oracle.openVocabOnly(args.model);
  let promptIds;
  if (args.ids !== undefined) promptIds = parseIdList(String(args.ids));
  else if (args.prompt !== undefined) promptIds = vocab.tokenize(String(args.prompt), !!args.special);
  else throw new Error('give --prompt TEXT or --ids LIST');
  await vocab.close();
  if (promptIds.length === 0) throw new Error('the prompt has no tokens');

  const oracle = await Oracle.open(args.model, {
    contextSize: promptIds.length + n + kContextHeadroom,
    threads: Number(args.threads ?? 2),
  });
  const ids = await oracle.greedy(promptIds, n, {stopIds: args['stop-eog'] ? kEogIds : []});
  const result = {model: args.model, prompt_ids: promptIds, ids, text: oracle.detokenize(ids, true)};
  await oracle.close();
  const json = JSON.stringify(result) + '\n';
  if (args.out) writeFileSync(args.out, json);
  else process.stdout.write(json);
});
