#!/usr/bin/env bash
# OIDC end to end: a real OpenID Connect provider (oidc-provider from e2e/oidc, static users in
# groups), Berth configured for it in its configuration file, and Debian's headless Chromium
# driven by playwright-core through e2e/oidc.cjs: sign in through the provider's form, check the
# user and its groups through the API, make the group a project member, take a CLI secret from
# the account page, push and pull with crane using it (after the provider is gone), and check
# that a replaced or revoked secret and an expired personal access token are refused.
#
#   BERTH_BIN        server binary (see e2e/lib.sh); it must serve a built console
#   E2E_KEEP_TMP=1   keep the temp dir with the logs
set -euo pipefail
# shellcheck source=e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE_DIR="${BERTH_CACHE_DIR:-/var/cache/berth}/e2e-node"
OIDC_DIR="$E2E_REPO_ROOT/e2e/oidc"
[[ -d "$NODE_DIR/node_modules/playwright-core" ]] ||
  e2e_die "playwright-core missing: run scripts/install-frontend.sh"
[[ -x /usr/bin/chromium ]] || e2e_die "chromium missing: run scripts/install-frontend.sh"
[[ -x "$BERTH_TOOLS_DIR/crane" ]] || e2e_die "crane missing: run scripts/install-tools.sh"
[[ -d "$OIDC_DIR/node_modules/oidc-provider" ]] ||
  e2e_die "oidc-provider missing: run scripts/install-tools.sh"
[[ -f "$E2E_REPO_ROOT/frontend/dist/index.html" ]] ||
  e2e_die "the console is not built: run scripts/build-frontend.sh"

e2e_tmpdir
export HOME="$E2E_TMP/home" DOCKER_CONFIG="$E2E_TMP/home/.docker"
mkdir -p "$DOCKER_CONFIG"

BERTH_PORT="$(e2e_free_port)"
IDP_PORT="$(e2e_free_port)"
IDP_LOG="$E2E_TMP/idp.log"
(cd "$OIDC_DIR" && exec node provider.mjs "$IDP_PORT" "http://127.0.0.1:$BERTH_PORT/c/oidc/callback") \
  >"$IDP_LOG" 2>&1 &
IDP_PID=$!
e2e_on_exit "kill $IDP_PID 2>/dev/null || true"
for _ in $(seq 1 100); do
  grep -qs '^ready ' "$IDP_LOG" && break
  kill -0 "$IDP_PID" 2>/dev/null || { cat "$IDP_LOG" >&2; e2e_die "the OIDC provider exited"; }
  sleep 0.1
done
ISSUER="$(sed -n 's/^ready //p' "$IDP_LOG")"
[[ -n "$ISSUER" ]] || e2e_die "the OIDC provider did not start"
e2e_log "OIDC provider at $ISSUER (pid $IDP_PID)"

cat >"$E2E_TMP/berth.toml" <<TOML
[[oidc.providers]]
name = "test-idp"
display_name = "Test IdP"
issuer = "$ISSUER"
client_id = "berth"
client_secret = "berth-client-secret"
scopes = ["profile", "email", "groups"]
admin_group = "berth-admins"
TOML
export BERTH_CONFIG="$E2E_TMP/berth.toml"
berth_start
berth_create_project team false

SCREENSHOTS="$E2E_REPO_ROOT/e2e/results/screenshots-oidc"
rm -rf "$SCREENSHOTS"
mkdir -p "$SCREENSHOTS"

E2E_BASE_URL="http://$BERTH_URL" \
  E2E_REGISTRY="$BERTH_URL" \
  E2E_ADMIN_PASSWORD="$BERTH_ADMIN_PASSWORD" \
  E2E_ISSUER="$ISSUER" \
  E2E_IDP_PID="$IDP_PID" \
  E2E_SCREENSHOTS="$SCREENSHOTS" \
  E2E_TMP="$E2E_TMP" \
  PLAYWRIGHT_CORE="$NODE_DIR/node_modules/playwright-core" \
  node "$E2E_LIB_DIR/oidc.cjs"
