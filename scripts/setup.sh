#!/usr/bin/env bash
# Installs what kefu's build and tests need, each only when missing, at pinned
# versions, from the package registries only (Debian, crates.io, npm).
# Usage: scripts/setup.sh [build|engines|test]
#   engines: adds the engines the tests and scripts/cluster.sh start themselves
#            (PostgreSQL, Redis, HAProxy: scripts/engines.sh), never as services
#   test:    adds those, Chromium and Playwright
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10      # 0.3.11 needs rustc 1.96
WASM_BINDGEN_VERSION=0.2.130     # must equal wasm-bindgen in Cargo.lock
BINARYEN_VERSION=132.0.0         # Debian's wasm-opt 108 breaks hydration
what=${1:-build}

say() { echo "setup: $*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root for: $*" >&2; exit 1; fi
}

installed=()   # what apt_install installed in this run
apt_install() {
  local missing=()
  for pkg in "$@"; do   # (dpkg -s also succeeds for a removed package's left configuration)
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  installed+=("${missing[@]}")
}

# Stops and disables the service a package just installed may have started
# (with a service manager, Debian starts redis-server on 6379 and haproxy at
# install and at every boot): kefu's scripts start their own, on free ports.
# Only for packages this run installed, never a service the machine already
# had; each step does nothing when there is nothing to stop.
#   $1 service, $2 its pid file, $3 the user its own instance runs as
quiet_service() {
  local svc=$1 pidfile=$2 user=$3 pids
  if [ -d /run/systemd/system ]; then
    as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null; then
    as_root update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
  pids=$( { cat "$pidfile" 2>/dev/null || true; pgrep -u "$user" -x "$svc" 2>/dev/null || true; } | sort -u)
  for pid in $pids; do
    say "stopping the $svc the package started (pid $pid)"
    as_root kill "$pid" 2>/dev/null || true
  done
}
just_installed() { local p; for p in "${installed[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

command -v cc >/dev/null || apt_install build-essential
command -v pkg-config >/dev/null || apt_install pkg-config
command -v npm >/dev/null || apt_install nodejs npm
command -v brotli >/dev/null || apt_install brotli   # scripts/precompress.sh
command -v openssl >/dev/null || apt_install openssl # scripts/widget-bundle.sh (content hashes)

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
# The visitor's bundle rebuilds the standard library for size (scripts/widget-bundle.sh).
if ! rustup component list --installed | grep -qx rust-src; then
  say "rustup component add rust-src"
  rustup component add rust-src
fi
if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
  say "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (takes 15-20 minutes on 2 cores)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --features no_downloads
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # --locked fails: one locked dependency is no longer in the registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  say "npm install -g binaryen@$BINARYEN_VERSION"
  as_root npm install -g --no-fund --no-audit "binaryen@$BINARYEN_VERSION" >/dev/null
fi

if [ "$what" = test ] || [ "$what" = engines ]; then
  # PostgreSQL for the tests on the second backend, Redis between nodes and
  # HAProxy in front of them; started by scripts/engines.sh, the tests and
  # scripts/cluster.sh, never as services.
  apt_install postgresql redis-server haproxy
  just_installed redis-server && quiet_service redis-server /run/redis/redis-server.pid redis
  just_installed haproxy && quiet_service haproxy /run/haproxy.pid haproxy
  command -v python3 >/dev/null || apt_install python3   # scripts/engines.sh (a free port)
fi

if [ "$what" = test ]; then
  if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null; then
    apt_install chromium fonts-noto-cjk
  fi
  if [ ! -x end2end/node_modules/.bin/playwright ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "npm ci in end2end/ (no browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit)
  fi
fi
