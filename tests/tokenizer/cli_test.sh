#!/usr/bin/env bash
# smolbot tokenize / detokenize on the synthetic model (real SmolLM3 vocabulary).
# Exit 77 (skipped) when the binary or the model is missing.
set -euo pipefail
bin=${SMOL_BIN_DIR:-build/bin}/smolbot
model=${SMOL_MODEL_DIR:-build/models}/synth-tiny.gguf
[ -x "$bin" ] || { echo "skip: $bin not built"; exit 77; }
[ -f "$model" ] || { echo "skip: $model absent (fixture synth_tiny)"; exit 77; }

fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect NAME ACTUAL WANTED
  [ "$2" == "$3" ] || fail "$1: got [$2], want [$3]"
}

expect plain "$("$bin" tokenize --model "$model" "Hello world")" "9906 1917"
expect special "$("$bin" tokenize --model "$model" --parse-special "<|im_start|>user")" "128011 882"
expect as_text "$("$bin" tokenize --model "$model" "<|im_end|>")" "27 91 318 6345 91 29"
expect json "$("$bin" tokenize --model "$model" --json --with-pieces "a
b")" '{"ids": [64, 198, 65], "pieces": ["a", "\\n", "b"]}'
expect pieces "$("$bin" tokenize --model "$model" --with-pieces "Hi!")" "$(printf '13347\tHi\n0\t!')"
expect detok "$("$bin" detokenize --model "$model" 9906 1917)" "Hello world"
expect detok_csv "$("$bin" detokenize --model "$model" 128011,9906 128012)" "Hello"
expect detok_special "$("$bin" detokenize --model "$model" --special 128011,9906 128012)" \
  "<|im_start|>Hello<|im_end|>"

# Round trip of a multi-line UTF-8 file.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'Grüße, 世界! 👩‍👩‍👧‍👦\n\tcode() { return 42; }\n' > "$tmp/in.txt"
ids=$("$bin" tokenize --model "$model" --file "$tmp/in.txt")
"$bin" detokenize --model "$model" $ids > "$tmp/out.txt"
printf '\n' >> "$tmp/in.txt"  # detokenize ends its output with a newline
cmp -s "$tmp/in.txt" "$tmp/out.txt" || fail "file round trip differs"

# Errors: one line, non-zero status.
if out=$("$bin" detokenize --model "$model" 999999 2>&1); then fail "bad id accepted"; fi
[[ "$out" == *"token id 999999 is outside [0, 128256)"* ]] || fail "bad id message: $out"
if out=$("$bin" tokenize --model "$model" $'ab\xffc' 2>&1); then fail "invalid UTF-8 accepted"; fi
[[ "$out" == *"not valid UTF-8 at byte offset 2"* ]] || fail "invalid UTF-8 message: $out"
if out=$("$bin" tokenize --model /nonexistent.gguf x 2>&1); then fail "missing model accepted"; fi
echo "ok"
