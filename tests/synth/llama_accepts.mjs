#!/usr/bin/env node
// llama.cpp accepts our synthetic files: loads synth-tiny.gguf (fixture synth_tiny) with
// node-llama-cpp, checks SmolLM3's special tokens tokenize to their ids, generates 8 tokens
// greedily and checks teacher-forced logits are finite and not degenerate.
// Exit 77 (skipped) when node-llama-cpp is not installed.
import {existsSync} from 'node:fs';
import {resolve} from 'node:path';

import {Oracle, importLlamaCpp, kContextHeadroom, kExitSkip, runCli, topTwo} from '../../scripts/oracle/llama.mjs';

function check(cond, what) {
  if (!cond) throw new Error(`FAIL: ${what}`);
}

function sameIds(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

runCli(async () => {
  if (!(await importLlamaCpp())) {
    console.log('SKIPPED: node-llama-cpp is not installed (run scripts/deps.sh)');
    return kExitSkip;
  }
  const model = process.argv[2] ??
      resolve(process.env.SMOL_MODEL_DIR ?? 'build/models', 'synth-tiny.gguf');
  check(existsSync(model), `${model} exists (fixture synth_tiny)`);

  const vocab = await Oracle.openVocabOnly(model);
  const specials = [
    ['<|im_start|>', 128011], ['<|im_end|>', 128012], ['<think>', 128002], ['</think>', 128003],
    ['<tool_call>', 128015], ['</tool_call>', 128016], ['<tool_response>', 128013],
    ['</tool_response>', 128014], ['<code>', 128017], ['</code>', 128018],
    ['<|begin_of_text|>', 128000], ['<|eot_id|>', 128009], ['<|eom_id|>', 128008],
  ];
  for (const [text, id] of specials) {
    const ids = vocab.tokenize(text, true);
    check(sameIds(ids, [id]), `${text} with specials -> [${id}], got [${ids}]`);
    check(!vocab.tokenize(text, false).includes(id), `${text} as plain text avoids id ${id}`);
  }
  const hello = vocab.tokenize('Hello world', false);
  check(sameIds(hello, [9906, 1917]), `"Hello world" -> [9906, 1917] (Llama-3 ids), got [${hello}]`);
  const prompt = vocab.tokenize('<|im_start|>user\nHi there, how are you?<|im_end|>\n' +
                                '<|im_start|>assistant\n', true);
  check(prompt[0] === 128011 && !prompt.includes(128000), 'chat prompt starts <|im_start|>, no BOS');
  await vocab.close();

  const n = 8;
  const oracle = await Oracle.open(model, {contextSize: prompt.length + n + kContextHeadroom});
  const nVocab = oracle.nVocab;
  check(nVocab === 128256, `vocabulary size 128256, got ${nVocab}`);
  const ids = await oracle.greedy(prompt, n);
  check(ids.length === n, `generated ${n} tokens, got ${ids.length}`);
  check(ids.every((t) => Number.isInteger(t) && t >= 0 && t < nVocab), 'generated ids in range');
  check(new Set(ids).size >= 2, `greedy output is not one repeated token: [${ids}]`);

  const logits = await oracle.logits(prompt, nVocab);
  check(logits.every(Number.isFinite), 'every logit is finite');
  const {argmax, gap} = topTwo(logits, nVocab);
  check(new Set(argmax).size >= prompt.length / 2,
        `top token varies across positions: ${new Set(argmax).size} distinct of ${prompt.length}`);
  const sortedGaps = [...gap].sort((a, b) => a - b);
  const medianGap = sortedGaps[sortedGaps.length >> 1];
  check(medianGap > 0.05, `median top-2 logit gap ${medianGap} > 0.05`);
  await oracle.close();
  console.log(`ok: ${model} loads in llama.cpp; greedy ids [${ids}]; ` +
              `${new Set(argmax).size}/${prompt.length} distinct argmax; median top-2 gap ` +
              `${medianGap.toFixed(3)}`);
  return 0;
});
