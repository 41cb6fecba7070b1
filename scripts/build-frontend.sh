#!/usr/bin/env bash
# Builds the console (frontend/, Leptos CSR) into frontend/dist, which `berth serve` serves at /.
# Needs scripts/install-frontend.sh (run here when its tools are missing). Output file names
# carry a content hash so browsers may cache them forever; every file gets a .gz twin that the
# server sends to clients accepting gzip. A second run with unchanged sources takes seconds.
#
#   BERTH_FRONTEND_TARGET_DIR  cargo output (default /var/cache/berth/target-frontend)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${BERTH_CACHE_DIR:-/var/cache/berth}"
TARGET="${BERTH_FRONTEND_TARGET_DIR:-$CACHE/target-frontend}"
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print}' \
  frontend/Cargo.lock)
WASM_BINDGEN="$CACHE/wasm-bindgen-$bindgen_version/bin/wasm-bindgen"
WASM_OPT=$(ls "$CACHE"/binaryen-*/node_modules/.bin/wasm-opt 2>/dev/null | tail -n 1 || true)

if [[ ! -x "$WASM_BINDGEN" || -z "$WASM_OPT" ]] || ! command -v rust-lld >/dev/null; then
  bash scripts/install-frontend.sh
  WASM_OPT=$(ls "$CACHE"/binaryen-*/node_modules/.bin/wasm-opt | tail -n 1)
fi

# Skip everything when the sources are unchanged since the last build into frontend/dist.
sources_hash=$(find frontend/src frontend/index.html frontend/style.css frontend/Cargo.toml \
  frontend/Cargo.lock frontend/.cargo frontend/rust-toolchain.toml backend/api-types \
  -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
stamp="$TARGET/console-sources.sha256"
if [[ -f frontend/dist/index.html && -f "$stamp" && "$(cat "$stamp")" == "$sources_hash" ]]; then
  echo "console in frontend/dist is up to date"
  exit 0
fi

(cd frontend && CARGO_TARGET_DIR="$TARGET" cargo build --release --locked)
wasm="$TARGET/wasm32-unknown-unknown/release/berth-console.wasm"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
"$WASM_BINDGEN" --target web --no-typescript --out-name berth_console --out-dir "$stage" "$wasm"
"$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types \
  "$stage/berth_console_bg.wasm" -o "$stage/opt.wasm"

short_hash() { sha256sum "$1" | cut -c1-16; }
wasm_name="berth_console-$(short_hash "$stage/opt.wasm")_bg.wasm"
js_name="berth_console-$(short_hash "$stage/berth_console.js").js"
css_name="style-$(short_hash frontend/style.css).css"

rm -rf frontend/dist
mkdir -p frontend/dist
cp "$stage/opt.wasm" "frontend/dist/$wasm_name"
cp "$stage/berth_console.js" "frontend/dist/$js_name"
cp frontend/style.css "frontend/dist/$css_name"
sed -e "s|__JS__|$js_name|g" -e "s|__WASM__|$wasm_name|g" -e "s|__CSS__|$css_name|g" \
  frontend/index.html >frontend/dist/index.html
for f in frontend/dist/*; do gzip -9 -k -n "$f"; done

printf 'console built into frontend/dist: wasm %s bytes, %s bytes gzipped\n' \
  "$(stat -c %s "frontend/dist/$wasm_name")" "$(stat -c %s "frontend/dist/$wasm_name.gz")"
mkdir -p "$TARGET"
printf '%s\n' "$sources_hash" >"$stamp"
