// llama.mjs — llama.cpp (through node-llama-cpp 3.22.1) as a reference for our engine.
//
// Goals: one small module the oracle CLIs share: load a GGUF on the CPU without ever downloading or
// compiling, tokenize, greedy-generate and read teacher-forced logits, with a context large enough
// that llama.cpp never shifts it (a shift silently changes results).
// Non-goals: sampling, chat sessions, GPUs.

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';

import {existsSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Head-room so that prompt + generated tokens never fill the context (see llamacpp-oracle.md).
export const kContextHeadroom = 64;

// Exit status the CTest helpers treat as "skipped".
export const kExitSkip = 77;

let llamaCppModule = null;

// Imports node-llama-cpp, or returns null when it is not installed (callers skip with a reason).
export async function importLlamaCpp() {
  if (llamaCppModule) return llamaCppModule;
  if (!existsSync(resolve(repoRoot, 'node_modules', 'node-llama-cpp'))) return null;
  // Dynamic import: the environment variable above must be set before the package loads.
  llamaCppModule = await import('node-llama-cpp');
  return llamaCppModule;
}

let llamaInstance = null;

async function getCpuLlama() {
  if (llamaInstance) return llamaInstance;
  const mod = await importLlamaCpp();
  if (!mod) throw new Error('node-llama-cpp is not installed (run scripts/deps.sh)');
  llamaInstance = await mod.getLlama({
    gpu: false,
    build: 'never',
    logLevel: mod.LlamaLogLevel.error,
    progressLogs: false,
  });
  return llamaInstance;
}

// A loaded model plus one single-sequence context of `contextSize` tokens.
export class Oracle {
  constructor(model, context, sequence) {
    this.model = model;
    this.context = context;
    this.sequence = sequence;
  }

  // contextSize: at least prompt + generated + kContextHeadroom; threads: llama.cpp threads.
  static async open(modelPath, {contextSize = 512, threads = 2} = {}) {
    if (!existsSync(modelPath)) throw new Error(`${modelPath}: no such file`);
    const llama = await getCpuLlama();
    const model = await llama.loadModel({modelPath, gpuLayers: 0});
    const context = await model.createContext({
      contextSize,
      batchSize: Math.min(contextSize, 512),
      sequences: 1,
      threads,
    });
    return new Oracle(model, context, context.getSequence());
  }

  // Tokenizer only (no weights loaded, no context): for tokenize/detokenize.
  static async openVocabOnly(modelPath) {
    if (!existsSync(modelPath)) throw new Error(`${modelPath}: no such file`);
    const llama = await getCpuLlama();
    const model = await llama.loadModel({modelPath, gpuLayers: 0, vocabOnly: true});
    return new Oracle(model, null, null);
  }

  // Vocabulary size as the file declares it ({arch}.vocab_size, else the tokens array).
  get nVocab() {
    const md = this.model.fileInfo.metadata;
    const arch = md?.general?.architecture;
    const declared = arch ? md?.[arch]?.vocab_size : undefined;
    if (Number.isInteger(declared)) return declared;
    const tokens = md?.tokenizer?.ggml?.tokens;
    if (Array.isArray(tokens)) return tokens.length;
    throw new Error('cannot tell the vocabulary size from the GGUF metadata');
  }

  tokenize(text, specialTokens = false) {
    return Array.from(this.model.tokenize(text, specialTokens));
  }

  detokenize(ids, specialTokens = true) {
    return this.model.detokenize(ids, specialTokens);
  }

  // Greedy (argmax) continuation of `promptIds` by `n` tokens; stops early only at `stopIds`.
  async greedy(promptIds, n, {stopIds = []} = {}) {
    await this.sequence.clearHistory();
    const out = [];
    if (n <= 0 || promptIds.length === 0) return out;
    const greedyNext = {generateNext: {token: true, options: {temperature: 0}}};
    const items = promptIds.map((id, i) => (i === promptIds.length - 1 ? [id, greedyNext] : id));
    let res = await this.sequence.controlledEvaluate(items);
    let next = res[items.length - 1]?.next?.token;
    while (next != null && out.length < n) {
      out.push(next);
      if (stopIds.includes(next) || out.length === n) break;
      res = await this.sequence.controlledEvaluate([[next, greedyNext]]);
      next = res[0]?.next?.token;
    }
    return out;
  }

  // Teacher-forced raw logits after each prompt position: Float32Array[nTokens * nVocab].
  async logits(promptIds, nVocab) {
    await this.sequence.clearHistory();
    const items = promptIds.map((id) => [id, {generateNext: {logits: true}}]);
    const res = await this.sequence.controlledEvaluate(items);
    const out = new Float32Array(promptIds.length * nVocab).fill(Number.NaN);
    for (let p = 0; p < promptIds.length; ++p) {
      const logits = res[p]?.next?.logits;
      if (!logits) throw new Error(`llama.cpp returned no logits at position ${p}`);
      for (const [token, value] of logits) {
        if (token >= 0 && token < nVocab) out[p * nVocab + token] = value;
      }
    }
    return out;
  }

  async close() {
    if (this.context) await this.context.dispose();
    await this.model.dispose();
  }
}

// Per position: argmax id and the gap between the two largest logits.
export function topTwo(logits, nVocab) {
  const n = logits.length / nVocab;
  const argmax = [];
  const gap = [];
  for (let p = 0; p < n; ++p) {
    let best = -Infinity;
    let second = -Infinity;
    let bestId = -1;
    for (let t = 0; t < nVocab; ++t) {
      const v = logits[p * nVocab + t];
      if (v > best) {
        second = best;
        best = v;
        bestId = t;
      } else if (v > second) {
        second = v;
      }
    }
    argmax.push(bestId);
    gap.push(best - second);
  }
  return {argmax, gap};
}

// Tiny argv parser: --key value / --key=value / -k value / --flag; positionals go to `_`.
export function parseArgs(argv, {flags = []} = {}) {
  const out = {_: []};
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    // "-n 8" is accepted as "--n 8"; "-" alone and negative numbers are positional.
    if (!/^--?[a-zA-Z]/.test(a)) {
      out._.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    if (eq >= 0) out[key] = body.slice(eq + 1);
    else if (flags.includes(key)) out[key] = true;
    else if (i + 1 < argv.length) out[key] = argv[++i];
    else throw new Error(`option --${key} needs a value`);
  }
  return out;
}

// "1,2,3" or "[1,2,3]" -> [1,2,3]; throws naming the bad element.
export function parseIdList(text) {
  const trimmed = text.trim().replace(/^\[/, '').replace(/\]$/, '');
  if (trimmed === '') return [];
  return trimmed.split(',').map((s, i) => {
    const v = Number(s.trim());
    if (!Number.isInteger(v) || v < 0) throw new Error(`bad token id #${i}: '${s.trim()}'`);
    return v;
  });
}

// Runs `main`, turning an exception into one line on stderr and exit status 1.
export function runCli(main) {
  main().then(
    (code) => process.exit(code ?? 0),
    (err) => {
      process.stderr.write(`${err?.message ?? err}\n`);
      process.exit(1);
    },
  );
}
