#!/usr/bin/env node
// llama.cpp tokenization of each string of a JSON array, with special-token parsing off and on.
//
//   node scripts/oracle/tokenize.mjs --model F --in strings.json [--out FILE]
//   (--in - reads stdin) -> {"model", "items": [{"text", "ids", "ids_special"}]}
//   ids: specialTokens=false ("<|im_start|>" is plain text); ids_special: specialTokens=true.
//   llama.cpp never prepends BOS for a SmolLM3 file.
import {readFileSync, writeFileSync} from 'node:fs';

import {Oracle, parseArgs, runCli} from './llama.mjs';

runCli(async () => {
  const args = parseArgs(process.argv.slice(2));
  if (!args.model || !args.in) throw new Error('usage: tokenize.mjs --model F --in strings.json');
  const texts = JSON.parse(readFileSync(args.in === '-' ? 0 : args.in, 'utf8'));
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
    throw new Error(`${args.in}: expected a JSON array of strings`);
  }
  const oracle = await Oracle.openVocabOnly(args.model);
  const items = texts.map((text) => ({
    text,
    ids: oracle.tokenize(text, false),
    ids_special: oracle.tokenize(text, true),
  }));
  await oracle.close();
  const json = JSON.stringify({model: args.model, items}) + '\n';
  if (args.out) writeFileSync(args.out, json);
  else process.stdout.write(json);
});
