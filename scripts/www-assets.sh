#!/usr/bin/env bash
# Copies the web UI's pinned third-party assets from node_modules into www/vendor/ (git-ignored),
# so the UI works with no network at all. highlight.js ships only CommonJS modules, so its core
# and a few languages are wrapped into one classic script that sets window.hljs (its token
# colours come from www/css/app.css, per theme).
# Usage: scripts/www-assets.sh   (run scripts/deps.sh first for node_modules)
set -euo pipefail
cd "$(dirname "$0")/.."

nm=node_modules
for pkg in htmx.org htmx-ext-sse marked dompurify highlight.js; do
  [ -f "$nm/$pkg/package.json" ] || { echo "www-assets: $nm/$pkg missing (run scripts/deps.sh)" >&2; exit 1; }
done

out=www/vendor
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smol-www-vendor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cp "$nm/htmx.org/dist/htmx.min.js" "$tmp/htmx.min.js"
cp "$nm/htmx-ext-sse/dist/sse.min.js" "$tmp/htmx-sse.min.js"
cp "$nm/marked/lib/marked.umd.js" "$tmp/marked.umd.js"
cp "$nm/dompurify/dist/purify.min.js" "$tmp/purify.min.js"

langs=(bash c cpp css diff go java javascript json markdown python rust shell sql typescript xml
       yaml plaintext)
{
  echo "/* highlight.js $(node -p "require('./$nm/highlight.js/package.json').version") (BSD-3-Clause), wrapped by scripts/www-assets.sh */"
  echo "(function () {"
  echo "var module = { exports: {} }; var exports = module.exports;"
  cat "$nm/highlight.js/lib/core.js"
  echo "var hljs = module.exports;"
  for l in "${langs[@]}"; do
    echo "(function () { var module = { exports: {} }; var exports = module.exports;"
    cat "$nm/highlight.js/lib/languages/$l.js"
    echo "hljs.registerLanguage('$l', module.exports); })();"
  done
  echo "window.hljs = hljs;"
  echo "})();"
} > "$tmp/highlight.js"

for pkg in htmx.org htmx-ext-sse marked dompurify highlight.js; do
  node -p "const p=require('./$nm/$pkg/package.json'); p.name+' '+p.version+' '+p.license" 
done > "$tmp/VERSIONS.txt"

rm -rf "$out"
mkdir -p "$out"
cp -R "$tmp"/. "$out"/
echo "www-assets: $(ls "$out" | wc -l) files in $out"
