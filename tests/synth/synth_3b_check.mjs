#!/usr/bin/env node
// The 3b preset end to end (opt-in: cmake -DSMOL_SYNTH_3B_TEST=ON; writes 1.9 GB and needs
// ~4 GB of RAM for llama.cpp): gguf-synth writes ${SMOL_MODEL_DIR}/synth-3b.gguf, gguf-inspect
// reports the reference numbers, and llama.cpp loads the file and generates 8 tokens.
import {execFileSync} from 'node:child_process';
import {resolve} from 'node:path';

import {Oracle, importLlamaCpp, kContextHeadroom, kExitSkip, runCli} from '../../scripts/oracle/llama.mjs';

function check(cond, what) {
  if (!cond) throw new Error(`FAIL: ${what}`);
}

runCli(async () => {
  const bin = process.env.SMOL_BIN_DIR ?? 'build/bin';
  const out = resolve(process.env.SMOL_MODEL_DIR ?? 'build/models', 'synth-3b.gguf');
  const t0 = Date.now();
  execFileSync(resolve(bin, 'gguf-synth'), ['--preset', '3b', '--seed', '1', '--out', out],
               {stdio: 'inherit'});
  const writeSeconds = (Date.now() - t0) / 1000;

  const info = JSON.parse(execFileSync(resolve(bin, 'gguf-inspect'), [out, '--json'],
                                       {maxBuffer: 64 << 20}).toString());
  check(info.type_counts.Q4_K === 216, `Q4_K 216, got ${info.type_counts.Q4_K}`);
  check(info.type_counts.Q6_K === 37, `Q6_K 37, got ${info.type_counts.Q6_K}`);
  check(info.type_counts.F32 === 73, `F32 73, got ${info.type_counts.F32}`);
  check(info.n_tensors === 326, `326 tensors, got ${info.n_tensors}`);
  check(info.tensor_bytes === 1907462144, `tensor data 1907462144 B, got ${info.tensor_bytes}`);
  check(info.arch.vocab_size === 128256, `vocab 128256, got ${info.arch.vocab_size}`);
  check(JSON.stringify(info.arch.nope_layers) === JSON.stringify([3, 7, 11, 15, 19, 23, 27, 31, 35]),
        `NoPE layers 3,7,...,35, got ${info.arch.nope_layers}`);

  if (!(await importLlamaCpp())) {
    console.log(`SKIPPED (llama.cpp part): node-llama-cpp is not installed; file checks passed`);
    return kExitSkip;
  }
  const prompt = [791, 4062, 14198, 39935, 35308, 927, 279, 16053, 5679, 13];  // "The quick ... dog."
  const n = 8;
  const t1 = Date.now();
  const oracle = await Oracle.open(out, {contextSize: prompt.length + n + kContextHeadroom});
  const loadSeconds = (Date.now() - t1) / 1000;
  const ids = await oracle.greedy(prompt, n);
  await oracle.close();
  check(ids.length === n && ids.every((t) => t >= 0 && t < 128256), `8 ids in range: [${ids}]`);
  console.log(`ok: wrote ${out} in ${writeSeconds.toFixed(1)} s; llama.cpp loaded it in ` +
              `${loadSeconds.toFixed(1)} s and generated [${ids}]`);
  return 0;
});
