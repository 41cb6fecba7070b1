#!/usr/bin/env bash
# Installs what building and browser-testing the console needs. Idempotent: a second run only
# checks dpkg and the cached binaries.
#
#   Debian: rustc-web cargo-web rust-web-src (Rust 1.96 able to build std for wasm32), lld-22
#           (rust-lld), chromium (browser tests)
#   wasm-bindgen-cli at exactly the wasm-bindgen version in frontend/Cargo.lock, built once into
#           /var/cache/berth/wasm-bindgen-<version>
#   binaryen (wasm-opt) from npm, cached in /var/cache/berth/binaryen-<version>; Debian's
#           binaryen 108 produces wasm that Chromium rejects
#   playwright-core from npm for e2e/console, cached in /var/cache/berth/e2e-node
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${BERTH_CACHE_DIR:-/var/cache/berth}"
BINARYEN_VERSION=132.0.0
PLAYWRIGHT_VERSION=1.65.2
APT_PACKAGES=(rustc-web cargo-web rust-web-src lld-22 chromium)

log() { printf '%s\n' "$*"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
  fi
  log "apt: installed ${missing[*]}"
else
  log "apt: ${APT_PACKAGES[*]} already present"
fi

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print}' \
  frontend/Cargo.lock)
[[ -n "$bindgen_version" ]] || { echo "no wasm-bindgen in frontend/Cargo.lock" >&2; exit 1; }
bindgen_root="$CACHE/wasm-bindgen-$bindgen_version"
if [[ -x "$bindgen_root/bin/wasm-bindgen" ]]; then
  log "wasm-bindgen-cli $bindgen_version: already present"
else
  # The default rustup toolchain builds the CLI (a native tool, built outside frontend/ so its
  # Debian toolchain is not picked up); --locked fails for this crate.
  (cd /tmp && cargo install wasm-bindgen-cli --version "=$bindgen_version" \
    --root "$bindgen_root" --target-dir "$CACHE/target-wasm-bindgen-cli")
  log "wasm-bindgen-cli $bindgen_version: installed"
fi

binaryen_dir="$CACHE/binaryen-$BINARYEN_VERSION"
if [[ -x "$binaryen_dir/node_modules/.bin/wasm-opt" ]]; then
  log "binaryen $BINARYEN_VERSION: already present"
else
  mkdir -p "$binaryen_dir"
  npm install --prefix "$binaryen_dir" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
  log "binaryen $BINARYEN_VERSION: installed"
fi

node_dir="$CACHE/e2e-node"
if [[ -d "$node_dir/node_modules/playwright-core" ]] &&
  grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$node_dir/node_modules/playwright-core/package.json"; then
  log "playwright-core $PLAYWRIGHT_VERSION: already present"
else
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-audit --no-fund --silent \
    "playwright-core@$PLAYWRIGHT_VERSION"
  log "playwright-core $PLAYWRIGHT_VERSION: installed"
fi
