#!/usr/bin/env bash
# Browser test of the admin console: starts Berth, then drives Debian's headless Chromium with
# playwright-core through e2e/console.cjs (sign in, create a project, push an image with crane,
# see the repository counted, its tags and layers, a robot account pulling, 100,000 seeded
# artifacts paged, add a member, sign out; a non-admin sees no administration).
# Screenshots go to e2e/results/screenshots (listed in docs/CONSOLE.md).
#
#   BERTH_BIN        server binary (see e2e/lib.sh); it must serve a built console
#                    (scripts/build-frontend.sh)
#   E2E_KEEP_TMP=1   keep the temp dir with the server's log
set -euo pipefail
# shellcheck source=e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE_DIR="${BERTH_CACHE_DIR:-/var/cache/berth}/e2e-node"
[[ -d "$NODE_DIR/node_modules/playwright-core" ]] ||
  e2e_die "playwright-core missing: run scripts/install-frontend.sh"
[[ -x /usr/bin/chromium ]] || e2e_die "chromium missing: run scripts/install-frontend.sh"
[[ -x "$BERTH_TOOLS_DIR/crane" ]] || e2e_die "crane missing: run scripts/install-tools.sh"
command -v python3 >/dev/null || e2e_die "python3 missing (it seeds the 100,000-artifact test)"
[[ -f "$E2E_REPO_ROOT/frontend/dist/index.html" ]] ||
  e2e_die "the console is not built: run scripts/build-frontend.sh"

berth_start
e2e_tmpdir
export HOME="$E2E_TMP/home" DOCKER_CONFIG="$E2E_TMP/home/.docker"
mkdir -p "$DOCKER_CONFIG"

SCREENSHOTS="$E2E_REPO_ROOT/e2e/results/screenshots"
rm -rf "$SCREENSHOTS"
mkdir -p "$SCREENSHOTS"

E2E_BASE_URL="http://$BERTH_URL" \
  E2E_REGISTRY="$BERTH_URL" \
  E2E_ADMIN_PASSWORD="$BERTH_ADMIN_PASSWORD" \
  E2E_SCREENSHOTS="$SCREENSHOTS" \
  E2E_TMP="$E2E_TMP" \
  E2E_DATABASE="$BERTH_DATA_DIR/berth.db" \
  PLAYWRIGHT_CORE="$NODE_DIR/node_modules/playwright-core" \
  node "$E2E_LIB_DIR/console.cjs"

# Registries, the proxy-cache choice and webhooks (e2e/console-integrations.cjs).
E2E_BASE_URL="http://$BERTH_URL" \
  E2E_REGISTRY="$BERTH_URL" \
  E2E_ADMIN_PASSWORD="$BERTH_ADMIN_PASSWORD" \
  E2E_SCREENSHOTS="$SCREENSHOTS" \
  E2E_TMP="$E2E_TMP" \
  PLAYWRIGHT_CORE="$NODE_DIR/node_modules/playwright-core" \
  node "$E2E_LIB_DIR/console-integrations.cjs"
