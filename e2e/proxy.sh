#!/usr/bin/env bash
# Proxy cache against a real upstream: the CNCF distribution registry (scripts/install-tools.sh
# builds it) serves lib/app; a Berth proxy-cache project `hub` pulls through it. Checked with
# crane and skopeo: first pull fetches, a moved upstream tag is seen at once, old content stays
# by digest, a stopped upstream leaves the cached tag served and gives 404 (never 5xx) for what
# was never cached, and nothing can be pushed into the cache (case B29).
#
#   BERTH_BIN        server binary (see e2e/lib.sh)
#   E2E_KEEP_TMP=1   keep the temp dir with both servers' logs
set -euo pipefail
# shellcheck source=e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in registry crane; do
  [[ -x "$BERTH_TOOLS_DIR/$tool" ]] || e2e_die "$tool missing: run scripts/install-tools.sh"
done
command -v skopeo >/dev/null || e2e_die "skopeo missing: run scripts/install-tools.sh"

e2e_tmpdir
export HOME="$E2E_TMP/home" DOCKER_CONFIG="$E2E_TMP/home/.docker"
mkdir -p "$DOCKER_CONFIG"
CRANE=(crane --insecure)
failures=0
check() { # check WHAT EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    e2e_log "ok: $1"
  else
    e2e_log "FAIL: $1: expected [$2], got [$3]"
    failures=$((failures + 1))
  fi
}

# ------------------------------------------------------------------ upstream
UP_PORT="$(e2e_free_port)"
UP="127.0.0.1:$UP_PORT"
mkdir -p "$E2E_TMP/upstream"
cat >"$E2E_TMP/upstream/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $E2E_TMP/upstream/data
  delete:
    enabled: true
http:
  addr: $UP
YAML
UP_PID=""
upstream_start() {
  "$BERTH_TOOLS_DIR/registry" serve "$E2E_TMP/upstream/config.yml" >>"$E2E_TMP/upstream/log" 2>&1 &
  UP_PID=$!
  berth_wait_ready "$UP" 30 "$UP_PID" || { tail -n 30 "$E2E_TMP/upstream/log" >&2; exit 1; }
}
upstream_stop() {
  [[ -n "$UP_PID" ]] || return 0
  kill "$UP_PID" 2>/dev/null || true
  wait "$UP_PID" 2>/dev/null || true
  UP_PID=""
}
e2e_on_exit upstream_stop
upstream_start
e2e_log "distribution registry upstream on $UP"

head -c 1048576 /dev/urandom >"$E2E_TMP/layer1"
tar -C "$E2E_TMP" -cf "$E2E_TMP/one.tar" layer1
head -c 524288 /dev/urandom >"$E2E_TMP/layer2"
tar -C "$E2E_TMP" -cf "$E2E_TMP/two.tar" layer2
v1="$("${CRANE[@]}" append --oci-empty-base -f "$E2E_TMP/one.tar" -t "$UP/lib/app:latest")"
v1="${v1##*@}"

# ------------------------------------------------------------------ Berth with a proxy project
berth_start
berth_api POST /api/v2.0/registries \
  "{\"name\":\"upstream\",\"type\":\"docker-registry\",\"url\":\"http://$UP\"}" ||
  e2e_die "create endpoint: $BERTH_API_STATUS $BERTH_API_BODY"
registry_id="$(curl -s -u "admin:$BERTH_ADMIN_PASSWORD" "http://$BERTH_URL/api/v2.0/registries" | jq '.[0].id')"
berth_api POST /api/v2.0/registries/ping "{\"id\":$registry_id}" ||
  e2e_die "ping endpoint: $BERTH_API_STATUS $BERTH_API_BODY"
berth_api POST /api/v2.0/projects \
  "{\"project_name\":\"hub\",\"registry_id\":$registry_id,\"metadata\":{\"public\":\"true\"}}" ||
  e2e_die "create proxy project: $BERTH_API_STATUS $BERTH_API_BODY"
R="$BERTH_URL"
"${CRANE[@]}" auth login "$R" -u admin -p "$BERTH_ADMIN_PASSWORD" >/dev/null

# First pull: crane pulls the whole image (manifest, config, layer) through the cache.
"${CRANE[@]}" pull --format oci "$R/hub/lib/app:latest" "$E2E_TMP/pull1"
check "first pull by tag gets the upstream digest" "$v1" "$(jq -r '.manifests[0].digest' "$E2E_TMP/pull1/index.json")"
layer="$("${CRANE[@]}" manifest "$R/hub/lib/app:latest" | jq -r '.layers[0].digest')"
check "layer bytes" "$layer" "sha256:$(sha256sum "$E2E_TMP/pull1/blobs/sha256/${layer#sha256:}" | cut -d' ' -f1)"
# skopeo reads it as another client would (anonymous: the project is public).
skopeo inspect --tls-verify=false --raw "docker://$R/hub/lib/app:latest" >"$E2E_TMP/skopeo.json"
check "skopeo sees the same manifest" "$v1" "sha256:$(sha256sum "$E2E_TMP/skopeo.json" | cut -d' ' -f1)"

# The upstream tag moves: the cache answers the new digest at once.
v2="$("${CRANE[@]}" append --oci-empty-base -f "$E2E_TMP/two.tar" -t "$UP/lib/app:latest")"
v2="${v2##*@}"
check "moved tag is revalidated" "$v2" "$("${CRANE[@]}" digest "$R/hub/lib/app:latest")"
skopeo copy --quiet --src-tls-verify=false "docker://$R/hub/lib/app:latest" "oci:$E2E_TMP/pull2:app"
check "skopeo copy of the new tag" "$v2" "$(jq -r '.manifests[0].digest' "$E2E_TMP/pull2/index.json")"
check "old content by digest" "$v1" "$("${CRANE[@]}" digest "$R/hub/lib/app@$v1")"

# Nothing is pushed into a cache.
if "${CRANE[@]}" copy "$R/hub/lib/app:latest" "$R/hub/lib/app:mine" 2>"$E2E_TMP/push.err"; then
  check "push into the cache is refused" "refused" "accepted"
else
  check "push into the cache is refused with DENIED" "1" "$(grep -c DENIED "$E2E_TMP/push.err" || true)"
fi

# Upstream down: the cached tag still pulls; what was never cached is a 404, not a 5xx.
upstream_stop
check "cached tag with the upstream down" "$v2" "$("${CRANE[@]}" digest "$R/hub/lib/app:latest")"
"${CRANE[@]}" pull --format oci "$R/hub/lib/app:latest" "$E2E_TMP/pull3"
check "cached image pulls with the upstream down" "$v2" "$(jq -r '.manifests[0].digest' "$E2E_TMP/pull3/index.json")"
status="$(curl -s -o /dev/null -w '%{http_code}' "http://$R/v2/hub/lib/other/manifests/latest" \
  -H "Authorization: Bearer $(curl -s "http://$R/service/token?service=berth&scope=repository:hub/lib/other:pull" | jq -r .token)")"
check "never-cached content with the upstream down" "404" "$status"

if ((failures > 0)); then
  e2e_log "$failures proxy-cache check(s) failed; logs in $E2E_TMP (E2E_KEEP_TMP=1 keeps them)"
  exit 1
fi
e2e_log "proxy cache: all checks passed"
