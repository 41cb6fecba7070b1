#!/usr/bin/env bash
# Runs Berth's whole test suite on a fresh Debian machine, installing what it needs first:
#   1. real clients and the OCI conformance suite (scripts/install-tools.sh, cached, idempotent)
#   2. formatting and lint checks, unit and integration tests (cargo), with a throwaway Redis
#      server (scripts/redis.sh) whose URL the workers' tests read from BERTH_TEST_REDIS_URL
#   3. the OCI distribution-spec conformance suite and real-client round trips against the
#      built binary (e2e/)
#
#   CARGO_TARGET_DIR   cargo output, kept outside the clone (default /var/cache/berth/target)
#   BERTH_SKIP_E2E=1   stop after the cargo tests
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/berth/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

section() { printf '\n==== %s\n' "$*"; }

section "install tools"
bash scripts/install-tools.sh

section "format"
cargo fmt --all --check

section "lint"
cargo clippy --locked --workspace --all-targets -- -D warnings

section "build"
cargo build --locked --workspace --all-targets

section "redis (for the workers' tests)"
BERTH_TEST_REDIS_URL="$(bash scripts/redis.sh)"
export BERTH_TEST_REDIS_URL
echo "redis at $BERTH_TEST_REDIS_URL"

section "unit and integration tests"
cargo test --locked --workspace

if [[ "${BERTH_SKIP_E2E:-0}" == 1 ]]; then
  exit 0
fi

export BERTH_BIN="$CARGO_TARGET_DIR/debug/berth"
status=0
# Sparse manifests (layers or index children never pushed) are refused by default, so the default
# configuration runs every data set but that one, and a second server with
# registry.allow_sparse_manifests runs every data set.
section "OCI conformance (default configuration)"
OCI_DATA_SPARSE=false bash e2e/conformance.sh || status=1
section "OCI conformance (allow_sparse_manifests, every data set)"
BERTH__REGISTRY__ALLOW_SPARSE_MANIFESTS=true OCI_RESULTS_DIR="$PWD/e2e/results/conformance-sparse" \
  bash e2e/conformance.sh || status=1
section "real clients"
bash e2e/clients.sh || status=1
exit "$status"
