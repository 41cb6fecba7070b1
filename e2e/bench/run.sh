#!/usr/bin/env bash
# Benchmarks Berth against the CNCF distribution registry on this machine and writes the result
# table to docs/benchmarks.md. Not part of scripts/test.sh: it measures, it does not pass or fail.
#
#   e2e/bench/run.sh            full run (100,000 tags, 10,000 repositories, 2 x 1 GiB; ~10 min)
#   e2e/bench/run.sh --quick    smaller data sets and shorter load phases (~4 min)
#
# Environment:
#   CARGO_TARGET_DIR   cargo output (default /var/cache/berth/target)
#   BERTH_TOOLS_DIR    where distribution, zb and the other tools live (default /var/cache/berth/bin)
#   BENCH_WORK         scratch directory for both registries' data (default /var/tmp/berth-bench;
#                      must be on the disk under test, not tmpfs); removed at the end
#   BENCH_OUT          output file (default docs/benchmarks.md)
#   ZOT_SRC            a zot source tree to build zb from when it is not installed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${BERTH_TOOLS_DIR:-/var/cache/berth/bin}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/berth/target}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

BERTH_TOOLS_BENCH=1 BERTH_TOOLS_DIR="$TOOLS" "$ROOT/scripts/install-tools.sh" \
  | grep -E '^(registry|wrk|zb):' || true
(cd "$ROOT" && cargo build --release -p berth-workers -p berth-bench)

zb_args=()
if [[ -x "$TOOLS/zb" ]]; then zb_args=(--zb "$TOOLS/zb"); fi

cd "$ROOT"
exec "$CARGO_TARGET_DIR/release/berth-bench" \
  --berth "$CARGO_TARGET_DIR/release/berth" \
  --registry "$TOOLS/registry" \
  "${zb_args[@]}" \
  --work "${BENCH_WORK:-/var/tmp/berth-bench}" \
  --out "${BENCH_OUT:-docs/benchmarks.md}" \
  --notes "$ROOT/e2e/bench/NOTES.md" \
  "$@"
