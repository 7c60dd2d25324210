#!/usr/bin/env bash
# Precompresses the built site's code and style (brotli and gzip, at their
# best settings) beside the originals, so the server sends a browser the
# smallest file it accepts without compressing on every request.
# Usage: scripts/precompress.sh [DIR]   (default target/site/pkg)
set -euo pipefail
dir=${1:-target/site/pkg}
shopt -s nullglob
for f in "$dir"/*.wasm "$dir"/*.js "$dir"/*.css; do
  brotli -f -q 11 -o "$f.br" "$f"
  gzip -f -k -9 -n "$f"
done
