#!/usr/bin/env bash
# Runs schemathesis against the OpenAPI description Berth serves, as the administrator, on a
# fresh server holding one project with an artifact. It fails on any 5xx, any response that
# the description does not allow (status, content type, body schema, headers), and on answers
# to undeclared methods other than 405.
#
# One check is left out: `positive_data_acceptance` (ST202). It expects every request the JSON
# schema allows to succeed, but the `q=` filter language, project and repository name rules and
# cross-field rules are richer than the schema says, so Berth rightly answers 400 to many
# generated values.
#
#   BERTH_SCHEMATHESIS_VENV   where scripts/install-tools.sh put schemathesis
#   BERTH_SCHEMATHESIS_EXAMPLES  examples per operation (default 20)
set -euo pipefail
# shellcheck source=e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ST="${BERTH_SCHEMATHESIS_VENV:-/var/cache/berth/venv-schemathesis}/bin/st"
[[ -x "$ST" ]] || e2e_die "$ST missing: run scripts/install-tools.sh"

berth_start
berth_create_project schema >/dev/null
e2e_tmpdir
# run_st LOG ARGS...: one schemathesis run; its log is kept and the failures are printed.
run_st() {
  local log="$1"
  shift
  local rc=0
  "$ST" run "http://$BERTH_URL/api/v2.0/openapi.json" \
    --auth "$BERTH_ADMIN_USER:$BERTH_ADMIN_PASSWORD" \
    --exclude-checks positive_data_acceptance \
    --max-examples "${BERTH_SCHEMATHESIS_EXAMPLES:-20}" \
    --workers 2 \
    --request-timeout 20 \
    --seed 1 \
    --no-color "$@" >"$log" 2>&1 || rc=$?
  grep -E '^_+ [A-Z]+ /|^- ST|^\s+(Received|Documented|Expected):' "$log" | head -80 || true
  tail -n 12 "$log"
  return "$rc"
}

# schemathesis 4.32.5's coverage phase dies inside hypothesis ("AST constructor recursion depth
# mismatch") on PUT /usergroups/{group_id}; that one operation is fuzzed without it.
status=0
run_st "$E2E_TMP/schemathesis.log" --exclude-operation-id usergroups_update || status=1
run_st "$E2E_TMP/schemathesis-usergroups.log" --include-operation-id usergroups_update \
  --phases examples,fuzzing || status=1
if ((status == 0)); then
  echo "1 passed, 0 failed"
else
  echo "0 passed, 1 failed"
fi
exit "$status"
