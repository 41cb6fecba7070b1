#!/usr/bin/env bash
# Replays, with curl and jq, the HTTP calls Harbor's command-line client (goharbor/harbor-cli,
# through its generated SDK goharbor/go-client) makes for login, projects, repositories,
# artifacts, robot accounts and members, and checks that every field the client's Go structs
# decode has the JSON type those structs need (a string where Go holds a string, a number for
# int64, RFC 3339 text or null for strfmt.DateTime...).
#
# The client itself cannot be built on these machines: the Go module proxy refuses the module
# (see docs/API.md, "Checks against real clients"). The calls below follow its source: the same
# paths, query parameters (the SDK sends `page`/`page_size` always and encodes `q` a second
# time, as harbor-cli pre-encodes it), headers (`X-Is-Resource-Name`) and JSON bodies.
set -euo pipefail
[[ "${E2E_TRACE:-0}" == 1 ]] && set -x
# shellcheck source=e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

berth_start
e2e_tmpdir
BASE="http://$BERTH_URL"
fails=0
USER_AGENT="harbor-cli-replay"

# call METHOD PATH [JSON] [HEADER...]: as the admin over Basic auth (what harbor-cli stores at
# login and sends on every call); sets STATUS and BODY.
call() {
  local method="$1" path="$2" body="${3:-}"
  shift 3 || shift $#
  local args=(-sS -o "$E2E_TMP/body" -w '%{http_code}' --max-time 30 -X "$method"
    -A "$USER_AGENT" -u "$BERTH_ADMIN_USER:$BERTH_ADMIN_PASSWORD" -H 'Accept: application/json')
  local h
  for h in "$@"; do args+=(-H "$h"); done
  if [[ -n "$body" ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  STATUS="$(curl "${args[@]}" "$BASE$path")"
  BODY="$(cat "$E2E_TMP/body")"
}

expect_status() {
  local want="$1" what="$2"
  if [[ "$STATUS" != "$want" ]]; then
    e2e_log "FAIL $what: status $STATUS, want $want: $BODY"
    fails=$((fails + 1))
    return 1
  fi
  e2e_log "ok   $what ($STATUS)"
}

# types FILTER WHAT: FILTER (jq, on BODY) yields `[path, type, value]` rows for fields of the
# wrong type; none means every field decodes.
types() {
  local filter="$1" what="$2" bad
  bad="$(jq -c "$filter" <<<"$BODY" 2>&1)" || bad="jq: $bad"
  if [[ -n "$bad" ]]; then
    e2e_log "FAIL $what: fields the Go structs cannot decode: $bad"
    fails=$((fails + 1))
    return 1
  fi
  e2e_log "ok   $what: every field has the type harbor-cli decodes"
}

# jq helpers: `want(obj; {"field": "type"})` lists fields present with another JSON type.
# Types: string, number, integer, boolean, object, array, time (RFC 3339 or null), any-null
# variants with a trailing `?` allow null.
JQ_LIB='
def is_time: type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$");
def ok($t): if $t | endswith("?") then (. == null or ok($t | rtrimstr("?")))
  elif $t == "time" then (. == null or is_time)
  elif $t == "integer" then (type == "number" and . == floor)
  else type == $t end;
def want($spec): . as $o | $spec | to_entries[] | .key as $k | .value as $t
  | select(($o | has($k)) and (($o[$k] | ok($t)) | not))
  | [$k, $t, $o[$k]];
def need($spec): . as $o | $spec | keys[] | . as $k
  | select($o | has($k) | not) | [$k, "missing"];
'
PROJECT='{"project_id":"integer","name":"string","owner_id":"integer","owner_name":"string",
  "repo_count":"integer","creation_time":"time","update_time":"time","deleted":"boolean",
  "current_user_role_id":"integer","current_user_role_ids":"array?","metadata":"object",
  "registry_id":"integer?","togglable":"boolean"}'
REPOSITORY='{"id":"integer","name":"string","project_id":"integer","artifact_count":"integer",
  "pull_count":"integer","creation_time":"time","update_time":"time","description":"string"}'
ARTIFACT='{"id":"integer","digest":"string","size":"integer","push_time":"time","pull_time":"time",
  "type":"string","media_type":"string","manifest_media_type":"string","project_id":"integer",
  "repository_id":"integer","tags":"array?","extra_attrs":"object?","references":"array?",
  "accessories":"array?","labels":"array?","addition_links":"object?","icon":"string"}'
TAG='{"id":"integer","name":"string","push_time":"time","pull_time":"time","immutable":"boolean",
  "repository_id":"integer","artifact_id":"integer"}'
ROBOT='{"id":"integer","name":"string","description":"string","level":"string",
  "duration":"integer","expires_at":"integer","disable":"boolean","editable":"boolean",
  "permissions":"array","creation_time":"time","update_time":"time"}'
MEMBER='{"id":"integer","project_id":"integer","entity_name":"string","role_name":"string",
  "role_id":"integer","entity_id":"integer","entity_type":"string"}'

# ---------------------------------------------------------------- login (validateClientConnection)
call GET /api/v2.0/users/current
expect_status 200 "login: GET /users/current"
types "$JQ_LIB"'want({"user_id":"integer","username":"string","email":"string",
  "realname":"string","comment":"string","sysadmin_flag":"boolean","admin_role_in_auth":"boolean",
  "creation_time":"time","update_time":"time"}), need({"user_id":1,"username":1})' \
  "login: current user"
STATUS="$(curl -s -o /dev/null -w '%{http_code}' -u "$BERTH_ADMIN_USER:wrong-Password1" \
  "$BASE/api/v2.0/users/current")"
BODY=""
expect_status 401 "login with a wrong password is refused (harbor-cli reports 401/403 as bad credentials)"
call GET '/api/v2.0/projects?page=1&page_size=1'
expect_status 200 "login: GET /projects?page=1&page_size=1"
call GET /api/v2.0/ping
expect_status 200 "login: GET /ping"

# ---------------------------------------------------------------- configurations (robot name prefix)
call GET /api/v2.0/configurations
expect_status 200 "GET /configurations"
types "$JQ_LIB"'(.robot_name_prefix | want({"value":"string","editable":"boolean"})),
  (if .robot_name_prefix.value == "robot$" then empty else ["robot_name_prefix", "robot$", .robot_name_prefix.value] end)' \
  "configurations: robot_name_prefix"

# ---------------------------------------------------------------- projects
# `harbor project create cli-demo`: models.ProjectReq as the SDK serializes it.
call POST /api/v2.0/projects \
  '{"project_name":"cli-demo","public":false,"storage_limit":0,"metadata":{"public":"false"}}'
expect_status 201 "project create (ProjectReq with public, storage_limit 0, metadata.public)"
call GET /api/v2.0/projects/cli-demo '' 'X-Is-Resource-Name: true'
expect_status 200 "project view by name (X-Is-Resource-Name: true)"
types "$JQ_LIB"'want('"$PROJECT"'), need({"project_id":1,"name":1}),
  (.metadata | want({"public":"string","auto_scan":"string?","severity":"string?",
    "prevent_vul":"string?","enable_content_trust":"string?","reuse_sys_cve_allowlist":"string?"}))' \
  "project view"
PROJECT_ID="$(jq -r .project_id <<<"$BODY")"
call GET "/api/v2.0/projects/$PROJECT_ID" '' 'X-Is-Resource-Name: false'
expect_status 200 "project view by id (X-Is-Resource-Name: false)"
# `harbor project list` (all pages of 100), `--private` and `--public`.
for query in 'page=1&page_size=100' 'page=1&page_size=100&public=false' 'page=1&page_size=100&public=true'; do
  call GET "/api/v2.0/projects?$query"
  expect_status 200 "project list ($query)"
  types "$JQ_LIB"'if type != "array" then ["body", "array", type] else .[] | want('"$PROJECT"') end' \
    "project list ($query)"
done
call GET '/api/v2.0/projects?page=1&page_size=100&public=false'
if ! jq -e 'any(.[]; .name == "cli-demo")' <<<"$BODY" >/dev/null; then
  e2e_log "FAIL project list --private does not show the private project: $BODY"
  fails=$((fails + 1))
fi
call GET '/api/v2.0/projects?page=1&page_size=100&public=true'
if jq -e 'any(.[]; .name == "cli-demo")' <<<"$BODY" >/dev/null; then
  e2e_log "FAIL project list --public shows a private project: $BODY"
  fails=$((fails + 1))
fi

# ---------------------------------------------------------------- an artifact to list
push_blob() {
  local repo="$1" file="$2" digest location
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  location="$(curl -sS -o /dev/null -D - -X POST -u "$BERTH_ADMIN_USER:$BERTH_ADMIN_PASSWORD" \
    "$BASE/v2/$repo/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')"
  [[ "$location" == http* ]] || location="$BASE$location"
  case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
  curl -sS -f -o /dev/null -X PUT -u "$BERTH_ADMIN_USER:$BERTH_ADMIN_PASSWORD" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$location"
  printf '%s' "$digest"
}
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$E2E_TMP/config.json"
printf 'harbor-cli replay layer\n' >"$E2E_TMP/layer"
config_digest="$(push_blob cli-demo/app "$E2E_TMP/config.json")"
layer_digest="$(push_blob cli-demo/app "$E2E_TMP/layer")"
jq -cn --arg c "$config_digest" --argjson cs "$(stat -c %s "$E2E_TMP/config.json")" \
  --arg l "$layer_digest" --argjson ls "$(stat -c %s "$E2E_TMP/layer")" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
  >"$E2E_TMP/manifest.json"
curl -sS --fail-with-body -o "$E2E_TMP/put" -X PUT -u "$BERTH_ADMIN_USER:$BERTH_ADMIN_PASSWORD" \
  -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary "@$E2E_TMP/manifest.json" "$BASE/v2/cli-demo/app/manifests/v1" || e2e_die "manifest push: $(cat "$E2E_TMP/put")"
e2e_log "pushed cli-demo/app:v1"

# ---------------------------------------------------------------- repositories and artifacts
call GET '/api/v2.0/projects/cli-demo/repositories?page=1&page_size=10'
expect_status 200 "repo list cli-demo"
types "$JQ_LIB"'if length != 1 then ["count", 1, length] else .[] | want('"$REPOSITORY"'),
  need({"name":1}), (if .name == "cli-demo/app" then empty else ["name", "cli-demo/app", .name] end) end' \
  "repo list"
call GET /api/v2.0/projects/cli-demo/repositories/app
expect_status 200 "repo view cli-demo/app"
types "$JQ_LIB"'want('"$REPOSITORY"')' "repo view"
call GET '/api/v2.0/projects/cli-demo/repositories/app/artifacts?page=1&page_size=10'
expect_status 200 "artifact list cli-demo/app"
types "$JQ_LIB"'if length != 1 then ["count", 1, length] else .[] | want('"$ARTIFACT"'),
  need({"digest":1,"size":1,"push_time":1}), ((.tags // [])[] | want('"$TAG"')) end' "artifact list"
call GET '/api/v2.0/projects/cli-demo/repositories/app/artifacts/v1?page=1&page_size=10&with_tag=true&with_label=true'
expect_status 200 "artifact view cli-demo/app:v1"
types "$JQ_LIB"'want('"$ARTIFACT"'), (if [.tags[]?.name] == ["v1"] then empty else ["tags", ["v1"], .tags] end)' \
  "artifact view"
call GET '/api/v2.0/projects/cli-demo/repositories/app/artifacts/v1/tags?page=1&page_size=10'
expect_status 200 "artifact tags list"
types "$JQ_LIB"'.[] | want('"$TAG"')' "artifact tags list"

# ---------------------------------------------------------------- robot accounts
# `harbor project robot create`: models.RobotCreate with one project permission.
call POST /api/v2.0/robots \
  '{"name":"ci","description":"from harbor-cli","disable":false,"duration":30,"level":"project",
    "permissions":[{"kind":"project","namespace":"cli-demo","access":[
      {"resource":"repository","action":"pull"},{"resource":"repository","action":"push"}]}]}'
expect_status 201 "robot create (project level)"
types "$JQ_LIB"'want({"id":"integer","name":"string","secret":"string","creation_time":"time",
  "expires_at":"integer"}), need({"id":1,"name":1,"secret":1})' "robot create answer (RobotCreated)"
ROBOT_ID="$(jq -r .id <<<"$BODY")"
ROBOT_SECRET="$(jq -r .secret <<<"$BODY")"
# `harbor project robot list`: q pre-encoded by harbor-cli, encoded again by the SDK.
call GET "/api/v2.0/robots?page=1&page_size=10&q=Level%253Dproject%252CProjectID%253D$PROJECT_ID"
expect_status 200 "robot list --project (double-encoded q)"
types "$JQ_LIB"'if length != 1 then ["count", 1, length] else .[] | want('"$ROBOT"'),
  (.permissions[] | want({"kind":"string","namespace":"string","access":"array"})),
  (.permissions[].access[] | want({"resource":"string","action":"string","effect":"string?"})) end' \
  "robot list"
# GetRobotByName: name=<project>%2B<name> inside the same pre-encoded q.
call GET "/api/v2.0/robots?page=1&page_size=10&q=Level%253Dproject%252CProjectID%253D$PROJECT_ID%252Cname%253Dcli-demo%252Bci"
expect_status 200 "robot lookup by name (project)"
types "$JQ_LIB"'if [.[].name] == ["robot$cli-demo+ci"] then empty else ["names", ["robot$cli-demo+ci"], [.[].name]] end' \
  "robot lookup by name"
call GET "/api/v2.0/robots/$ROBOT_ID"
expect_status 200 "robot view"
types "$JQ_LIB"'want('"$ROBOT"'), (if has("secret") then ["secret", "absent", "present"] else empty end)' \
  "robot view (no secret)"
STATUS="$(curl -s -o /dev/null -w '%{http_code}' -u "robot\$cli-demo+ci:$ROBOT_SECRET" \
  "$BASE/v2/cli-demo/app/manifests/v1" -H 'Accept: application/vnd.oci.image.manifest.v1+json')"
BODY=""
expect_status 200 "the robot's secret pulls (docker login with robot credentials)"
# `harbor project robot refresh`: PATCH with a generated secret.
call PATCH "/api/v2.0/robots/$ROBOT_ID" '{}'
expect_status 200 "robot refresh secret"
types "$JQ_LIB"'want({"secret":"string"}), need({"secret":1})' "robot refresh answer"
# `harbor project robot update`: the full models.Robot is sent back.
call GET "/api/v2.0/robots/$ROBOT_ID"
call PUT "/api/v2.0/robots/$ROBOT_ID" "$(jq -c '.description = "updated by harbor-cli"' <<<"$BODY")"
expect_status 200 "robot update (the viewed robot sent back)"
call DELETE "/api/v2.0/robots/$ROBOT_ID"
expect_status 200 "robot delete"

# ---------------------------------------------------------------- members
berth_create_user cli-dev 'Cli-Dev-12345' >/dev/null
# `harbor project member create`: models.ProjectMember, role_id = choice + 1 (2: developer).
call POST /api/v2.0/projects/cli-demo/members \
  '{"role_id":2,"member_user":{"username":"cli-dev"}}' 'X-Is-Resource-Name: true'
expect_status 201 "member create"
call GET '/api/v2.0/projects/cli-demo/members?page=1&page_size=10&entityname=cli-dev' '' \
  'X-Is-Resource-Name: true'
expect_status 200 "member list --name"
types "$JQ_LIB"'if length != 1 then ["count", 1, length] else .[] | want('"$MEMBER"'),
  (if .entity_name == "cli-dev" and .role_id == 2 and .entity_type == "u" then empty
   else ["member", "cli-dev/2/u", [.entity_name, .role_id, .entity_type]] end) end' "member list"
MEMBER_ID="$(jq -r '.[0].id' <<<"$BODY")"
call GET "/api/v2.0/projects/cli-demo/members/$MEMBER_ID" '' 'X-Is-Resource-Name: true'
expect_status 200 "member view"
types "$JQ_LIB"'want('"$MEMBER"')' "member view"
call PUT "/api/v2.0/projects/cli-demo/members/$MEMBER_ID" '{"role_id":3}' 'X-Is-Resource-Name: true'
expect_status 200 "member update (role guest)"
call DELETE "/api/v2.0/projects/cli-demo/members/$MEMBER_ID" '' 'X-Is-Resource-Name: true'
expect_status 200 "member delete"

# ---------------------------------------------------------------- project delete (--force)
call GET /api/v2.0/projects/cli-demo/immutabletagrules
expect_status 200 "force delete: list immutable rules"
call DELETE /api/v2.0/projects/cli-demo/repositories/app
expect_status 200 "force delete: repo delete"
call DELETE /api/v2.0/projects/cli-demo '' 'X-Is-Resource-Name: true'
expect_status 200 "project delete"
call GET /api/v2.0/projects/cli-demo '' 'X-Is-Resource-Name: true'
expect_status 404 "the project is gone"

if ((fails > 0)); then
  e2e_log "$fails harbor-cli replay check(s) failed"
  exit 1
fi
e2e_log "every harbor-cli call answered as the client expects"
