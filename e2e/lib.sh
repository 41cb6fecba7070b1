# shellcheck shell=bash
# Shared helpers for the e2e scripts. Source it; it does not change shell options by itself.
#
# Server:
#   berth_start            start "$BERTH_BIN serve --listen 127.0.0.1:$BERTH_PORT --data-dir DIR"
#                          with BERTH_ADMIN_PASSWORD set, wait for GET /v2/ (200 or 401), stop on EXIT.
#                          Exports BERTH_URL=127.0.0.1:PORT and BERTH_DATA_DIR.
#   berth_stop             stop the server started by berth_start (also done on EXIT).
#   berth_wait_ready URL   wait until http://URL/v2/ answers 200 or 401.
# REST API (Harbor /api/v2.0 shapes), as the admin over Basic auth:
#   berth_api METHOD PATH [JSON]         sets BERTH_API_STATUS and BERTH_API_BODY; 0 on 2xx
#   berth_create_project NAME [public]   201 (409 = already there, accepted)
#   berth_create_user NAME PASSWORD      201 (409 accepted)
#   berth_add_member PROJECT USER ROLE   201 (409 accepted); roles: 1 projectAdmin, 2 developer,
#                                        3 guest, 4 maintainer, 5 limitedGuest
# Misc:
#   e2e_on_exit CMD        run CMD (eval'd) on EXIT, last registered first
#   e2e_tmpdir             create (once) the temp dir $E2E_TMP, removed on EXIT (E2E_KEEP_TMP=1 keeps it);
#                          call it directly, not in $(...), so the variable and the hook stick
#   e2e_free_port          print a free TCP port on 127.0.0.1
#
# Environment:
#   BERTH_BIN              server binary (default: first of $CARGO_TARGET_DIR/{debug,release}/berth,
#                          /var/cache/berth/target/{debug,release}/berth, <repo>/target/{debug,release}/berth)
#   BERTH_PORT             port for berth_start (default: a free port)
#   BERTH_URL              host:port of a running registry; set by berth_start
#   BERTH_ADMIN_USER       admin user name (default admin)
#   BERTH_ADMIN_PASSWORD   admin password (berth_start sets a default when empty)
#   BERTH_TOOLS_DIR        where scripts/install-tools.sh put the Go tools (default /var/cache/berth/bin)

E2E_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_REPO_ROOT="$(cd "$E2E_LIB_DIR/.." && pwd)"
BERTH_TOOLS_DIR="${BERTH_TOOLS_DIR:-/var/cache/berth/bin}"
case ":$PATH:" in *":$BERTH_TOOLS_DIR:"*) ;; *) PATH="$BERTH_TOOLS_DIR:$PATH" ;; esac
export PATH BERTH_TOOLS_DIR
BERTH_ADMIN_USER="${BERTH_ADMIN_USER:-admin}"

# Never let a client go through a proxy: everything here talks to 127.0.0.1 only.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"

# ------------------------------------------------------------------ exit hooks
_E2E_EXIT_HOOKS=()
e2e_on_exit() { _E2E_EXIT_HOOKS+=("$1"); }
_e2e_run_exit_hooks() {
  local rc=$? i
  for ((i = ${#_E2E_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
    eval "${_E2E_EXIT_HOOKS[$i]}" || true
  done
  return $rc
}
trap _e2e_run_exit_hooks EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

e2e_log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
e2e_die() { e2e_log "error: $*"; exit 1; }

E2E_TMP=""
e2e_tmpdir() {
  if [[ -z "$E2E_TMP" ]]; then
    E2E_TMP="$(mktemp -d "${TMPDIR:-/tmp}/berth-e2e.XXXXXX")"
    if [[ "${E2E_KEEP_TMP:-0}" == 1 ]]; then
      e2e_on_exit "e2e_log 'kept $E2E_TMP'"
    else
      e2e_on_exit "rm -rf '$E2E_TMP'"
    fi
  fi
}

e2e_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ------------------------------------------------------------------ server
berth_find_bin() {
  if [[ -n "${BERTH_BIN:-}" ]]; then printf '%s\n' "$BERTH_BIN"; return 0; fi
  local c
  for c in ${CARGO_TARGET_DIR:+"$CARGO_TARGET_DIR/debug/berth" "$CARGO_TARGET_DIR/release/berth"} \
    /var/cache/berth/target/debug/berth /var/cache/berth/target/release/berth \
    "$E2E_REPO_ROOT/target/debug/berth" "$E2E_REPO_ROOT/target/release/berth"; do
    if [[ -x "$c" ]]; then printf '%s\n' "$c"; return 0; fi
  done
  return 1
}

# berth_wait_ready HOST:PORT [TIMEOUT_SECONDS] [PID]
berth_wait_ready() {
  local url="$1" timeout="${2:-60}" pid="${3:-}" code deadline=$((SECONDS + ${2:-60}))
  while ((SECONDS < deadline)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$url/v2/" || true)
    if [[ "$code" == 200 || "$code" == 401 ]]; then return 0; fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      e2e_log "server (pid $pid) exited before it was ready"
      return 1
    fi
    sleep 0.2
  done
  e2e_log "http://$url/v2/ did not answer 200/401 within ${timeout}s (last status: ${code:-none})"
  return 1
}

BERTH_PID=""
berth_start() {
  local bin dir
  bin="$(berth_find_bin)" || e2e_die "no berth binary: set BERTH_BIN or build the backend first"
  BERTH_PORT="${BERTH_PORT:-$(e2e_free_port)}"
  BERTH_ADMIN_PASSWORD="${BERTH_ADMIN_PASSWORD:-Berth-Admin-12345}"
  e2e_tmpdir
  dir="${BERTH_DATA_DIR:-$E2E_TMP/berth-data}"
  mkdir -p "$dir"
  BERTH_DATA_DIR="$dir"
  BERTH_URL="127.0.0.1:$BERTH_PORT"
  export BERTH_PORT BERTH_ADMIN_PASSWORD BERTH_DATA_DIR BERTH_URL
  e2e_log "starting $bin on $BERTH_URL (data $dir, log $dir/berth.log)"
  BERTH_ADMIN_PASSWORD="$BERTH_ADMIN_PASSWORD" \
    "$bin" serve --listen "$BERTH_URL" --data-dir "$dir" >"$dir/berth.log" 2>&1 &
  BERTH_PID=$!
  e2e_on_exit berth_stop
  if ! berth_wait_ready "$BERTH_URL" "${BERTH_START_TIMEOUT:-60}" "$BERTH_PID"; then
    tail -n 50 "$dir/berth.log" >&2 || true
    return 1
  fi
  e2e_log "berth ready on $BERTH_URL (pid $BERTH_PID)"
}

berth_stop() {
  [[ -n "$BERTH_PID" ]] || return 0
  if kill -0 "$BERTH_PID" 2>/dev/null; then
    kill -TERM "$BERTH_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$BERTH_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$BERTH_PID" 2>/dev/null || true
  fi
  wait "$BERTH_PID" 2>/dev/null || true
  BERTH_PID=""
}

# ------------------------------------------------------------------ REST API as admin
BERTH_API_STATUS="" BERTH_API_BODY=""
# berth_api METHOD PATH [JSON_BODY]: sets BERTH_API_STATUS and BERTH_API_BODY (call it directly,
# not in $(...), or the variables are lost); returns 0 on any 2xx
berth_api() {
  local method="$1" path="$2" body="${3:-}" out
  [[ -n "${BERTH_URL:-}" ]] || e2e_die "BERTH_URL is not set"
  [[ -n "${BERTH_ADMIN_PASSWORD:-}" ]] || e2e_die "BERTH_ADMIN_PASSWORD is not set"
  out="$(mktemp)"
  local args=(-sS -o "$out" -w '%{http_code}' --max-time 30 -X "$method"
    -u "$BERTH_ADMIN_USER:$BERTH_ADMIN_PASSWORD" -H 'Accept: application/json')
  if [[ -n "$body" ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  BERTH_API_STATUS="$(curl "${args[@]}" "http://$BERTH_URL$path" || true)"
  BERTH_API_BODY="$(cat "$out")"
  rm -f "$out"
  [[ "$BERTH_API_STATUS" == 2?? ]]
}

# _berth_api_expect WHAT METHOD PATH JSON -> ok on 201, or 409 (already exists)
_berth_api_expect() {
  local what="$1"
  shift
  berth_api "$@" || true
  case "$BERTH_API_STATUS" in
    201) e2e_log "$what: created" ;;
    409) e2e_log "$what: already exists" ;;
    *)
      e2e_log "$what: $1 $2 answered ${BERTH_API_STATUS:-no response}: $BERTH_API_BODY"
      return 1
      ;;
  esac
}

berth_create_project() {
  local name="$1" public="${2:-false}"
  _berth_api_expect "project $name" POST /api/v2.0/projects \
    "$(jq -cn --arg n "$name" --arg p "$public" '{project_name: $n, metadata: {public: $p}}')"
}

berth_create_user() {
  local name="$1" password="$2"
  _berth_api_expect "user $name" POST /api/v2.0/users \
    "$(jq -cn --arg n "$name" --arg p "$password" \
      '{username: $n, password: $p, email: ($n + "@example.com"), realname: $n}')"
}

berth_add_member() {
  local project="$1" user="$2" role="$3"
  _berth_api_expect "member $user of $project (role $role)" POST "/api/v2.0/projects/$project/members" \
    "$(jq -cn --arg u "$user" --argjson r "$role" '{role_id: $r, member_user: {username: $u}}')"
}

# berth_setup_member PROJECT USER PASSWORD ROLE: project + user + membership, when the admin
# password is known; otherwise assumes they exist already.
berth_setup_member() {
  if [[ -z "${BERTH_ADMIN_PASSWORD:-}" ]]; then
    e2e_log "BERTH_ADMIN_PASSWORD empty: assuming project $1, user $2 and membership exist"
    return 0
  fi
  berth_create_project "$1" false
  berth_create_user "$2" "$3"
  berth_add_member "$1" "$2" "$4"
}

# e2e_prepare_target PROJECT ROLE: resolve the registry to test and the credentials to use.
#   BERTH_URL set        -> use that registry (a running Berth, or any registry when BERTH_USER='')
#   BERTH_URL unset      -> start Berth with berth_start
#   BERTH_USER unset     -> a user named after the script is created (needs the admin password)
#   BERTH_USER=''        -> anonymous, no setup (e.g. the CNCF reference registry without auth)
e2e_prepare_target() {
  local project="$1" role="$2" default_user="$3"
  if [[ -z "${BERTH_URL:-}" ]]; then berth_start; fi
  if [[ "${BERTH_USER-unset}" == unset ]]; then
    BERTH_USER="$default_user"
    BERTH_PASSWORD="${BERTH_PASSWORD:-Passw0rd!x}"
  fi
  BERTH_PASSWORD="${BERTH_PASSWORD:-}"
  export BERTH_URL BERTH_USER BERTH_PASSWORD
  if [[ -n "$BERTH_USER" && "${BERTH_SETUP:-1}" != 0 ]]; then
    berth_setup_member "$project" "$BERTH_USER" "$BERTH_PASSWORD" "$role"
  fi
  berth_wait_ready "$BERTH_URL" 30
}
