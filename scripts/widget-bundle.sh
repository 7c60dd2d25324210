#!/usr/bin/env bash
# Builds the visitor's bundle: the widget alone (entry point hydrate_widget,
# feature visitor-bundle), without the router and the console that the full
# bundle (kefu.*, built by `cargo leptos build --release`) carries. Run after
# that build, which empties the site folder and writes the hash file:
#   1. cargo builds the lib for wasm with cargo-leptos' profile and
#      environment, in a target dir of its own (its flags differ from
#      cargo-leptos' build, which would otherwise rebuild everything), with
#      the standard library rebuilt for size: -Zbuild-std with
#      optimize_for_size, panics that abort at once (no message formatting:
#      the widget cannot show a panic anyway), no panic locations and no
#      Debug formatting. These are unstable flags of the stable toolchain
#      (RUSTC_BOOTSTRAP=1, as the Linux kernel builds its Rust), worth
#      19 KiB of the 180 KiB of brotli wasm (2026-12-05). They need the
#      rust-src component (scripts/setup.sh installs it); should they fail
#      on another toolchain, the script says so and builds without them;
#   2. wasm-bindgen as cargo-leptos runs it; wasm-opt with cargo-leptos'
#      flags, but -Os --converge (about 1.5 KiB less after brotli than -Oz,
#      though larger raw) and without the producers/target-features
#      sections; memory is fresh, hence zero-filled. The glue script loses
#      its comments and indentation (cargo-leptos minifies its own);
#   3. the files go to the site as widget.<hash>.js/.wasm, with the
#      widget's part of style/main.css as widget.<hash>.css, and their
#      hashes to the hash file (widget.js: / widget.wasm: / widget.css:),
#      read by the server.
# The optimised output is kept per input wasm, so an unchanged widget skips
# step 2 on the next build.
# Usage: scripts/widget-bundle.sh   (env: CARGO_TARGET_DIR, LEPTOS_SITE_ROOT;
# KEFU_WIDGET_PLAIN=1 builds without the size flags)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
site=${LEPTOS_SITE_ROOT:-target/site}
pkg="$site/pkg"
hash_file="$target/release/hash.txt"
[[ -f $hash_file ]] || { echo "widget-bundle: no $hash_file (run cargo leptos build --release first)" >&2; exit 1; }

front="$target/visitor"

# The environment cargo-leptos gives its own front build (cargo leptos
# build -vv prints it).
build() {
  LEPTOS_OUTPUT_NAME=kefu LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=. \
  LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=true LEPTOS_HASH_FILE_NAME=hash.txt \
    cargo build "$@" --package=kefu --lib --target-dir="$front" --target=wasm32-unknown-unknown \
      --no-default-features --features=visitor-bundle --profile=wasm-release
}
if [[ ${KEFU_WIDGET_PLAIN:-} == 1 ]] \
  || ! RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
    build -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size; then
  [[ ${KEFU_WIDGET_PLAIN:-} == 1 ]] \
    || echo "widget-bundle: the size-optimised build failed (above); building the widget without it, about 19 KiB larger" >&2
  build
fi
input="$front/wasm32-unknown-unknown/wasm-release/kefu.wasm"

hash() { openssl md5 -binary "$1" | base64 | tr '+/' '-_' | tr -d '='; }
out="$front/widget/$(hash "$input")"
if [[ ! -f $out/widget.wasm ]]; then
  rm -rf "$front/widget"
  mkdir -p "$out"
  wasm-bindgen --target=web --no-typescript --out-name=widget --out-dir="$out" "$input"
  mv "$out/widget_bg.wasm" "$out/widget.wasm"
  wasm-opt -Os --converge --zero-filled-memory --strip-producers --strip-target-features \
    --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out/widget.wasm" -o "$out/widget.wasm"
  # Leading white space and whole-line comments go, unless a template
  # literal spans lines (an odd number of backticks on a line).
  if ! awk -F'`' 'NF > 1 && NF % 2 == 0 { multiline = 1 } END { exit !multiline }' "$out/widget.js"; then
    awk '/^[ \t]*\/\*\*/ { doc = 1 }
         doc { if ($0 ~ /\*\/[ \t]*$/) doc = 0; next }
         /^[ \t]*\/\// { next }
         { sub(/^[ \t]+/, ""); if ($0 != "") print }' "$out/widget.js" > "$out/widget.min.js"
    mv "$out/widget.min.js" "$out/widget.js"
  fi
fi

# The widget's stylesheet: style/main.css down to its marker line (the
# console's rules below it are half of the file), without comment lines
# and indentation.
marker="/* end of the widget's stylesheet"
grep -qF "$marker" style/main.css || { echo "widget-bundle: style/main.css lacks the line starting $marker" >&2; exit 1; }
awk -v marker="$marker" 'index($0, marker) == 1 { exit }
     /^[ \t]*\/\*.*\*\/[ \t]*$/ { next }
     { sub(/^[ \t]+/, ""); if ($0 != "") print }' style/main.css > "$out/widget.css"

js_hash=$(hash "$out/widget.js")
wasm_hash=$(hash "$out/widget.wasm")
css_hash=$(hash "$out/widget.css")
rm -f "$pkg"/widget.*
cp "$out/widget.js" "$pkg/widget.$js_hash.js"
cp "$out/widget.wasm" "$pkg/widget.$wasm_hash.wasm"
cp "$out/widget.css" "$pkg/widget.$css_hash.css"
grep -v '^widget\.' "$hash_file" > "$hash_file.new" || true
printf 'widget.js: %s\nwidget.wasm: %s\nwidget.css: %s\n' "$js_hash" "$wasm_hash" "$css_hash" >> "$hash_file.new"
mv "$hash_file.new" "$hash_file"
echo "widget-bundle: $pkg/widget.$js_hash.js, widget.$wasm_hash.wasm ($(stat -c %s "$pkg/widget.$wasm_hash.wasm") bytes)"
