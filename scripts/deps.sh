#!/usr/bin/env bash
# Installs what the project needs, skipping whatever is already present (idempotent).
#   Debian packages: compilers, CMake, OpenBLAS, POCO, nlohmann-json, ICU, GoogleTest,
#   Google Benchmark, clang (fuzzing), python3-jinja2 (template goldens), Node.js/npm,
#   chromium (web UI browser tests).
#   npm packages (package.json + package-lock.json): llama.cpp oracle, tokenizer references.
# Usage: scripts/deps.sh [--no-npm]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  libopenblas-dev libpoco-dev libsqlite3-dev nlohmann-json3-dev libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev python3 python3-jinja2
  chromium
)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
else
  echo "deps: Debian packages present"
fi

if [ "${1:-}" != "--no-npm" ]; then
  # The oracle's prebuilt CPU binary is an explicit dependency; --omit=optional keeps the
  # ~500 MB of GPU variants out, and SKIP_DOWNLOAD stops node-llama-cpp from fetching anything.
  export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
  stamp=node_modules/.smol-installed
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
    echo "deps: installing npm packages"
    npm ci --omit=optional --no-audit --no-fund --loglevel=error ||
      npm install --omit=optional --no-audit --no-fund --loglevel=error
    touch "$stamp"
  else
    echo "deps: npm packages present"
  fi
fi
