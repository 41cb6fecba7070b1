#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite (new Go program, OCI_* variables) against Berth.
#
#   BERTH_URL=host:port   registry to test; when unset, a Berth is started (see e2e/lib.sh)
#   BERTH_USER/PASSWORD   credentials of a non-admin user; when BERTH_USER is unset, the user
#                         "conformance" is created and made projectAdmin (role 1) of project
#                         "conformance" (it must delete); BERTH_USER='' runs anonymously
#                         (e.g. against the CNCF reference registry without auth)
#   BERTH_ADMIN_PASSWORD  admin password, used to create project/user/membership (BERTH_SETUP=0 skips)
#   CONFORMANCE_VERSION   OCI_VERSION (default 1.1; "dev" also requires upload cancel, digest
#                         headers and ?tag= on manifest PUT)
#   Any OCI_* variable set by the caller wins over the defaults below (e.g. OCI_LOG=debug,
#   OCI_FILTER_TEST='OCI Conformance Test/sha256 blobs').
#
# Results: e2e/results/conformance/{results.yaml,junit.xml,report.html}. Exit status is the suite's.
set -euo pipefail
# shellcheck source=e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$BERTH_TOOLS_DIR/oci-conformance"
[[ -x "$BIN" ]] || e2e_die "$BIN missing: run scripts/install-tools.sh"

e2e_prepare_target conformance 1 conformance

RESULTS_DIR="${OCI_RESULTS_DIR:-$E2E_REPO_ROOT/e2e/results/conformance}"
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"

export OCI_REGISTRY="$BERTH_URL"
export OCI_TLS="${OCI_TLS:-disabled}"
export OCI_REPO1="${OCI_REPO1:-conformance/repo1}"
export OCI_REPO2="${OCI_REPO2:-conformance/repo2}"
export OCI_USERNAME="$BERTH_USER"
export OCI_PASSWORD="$BERTH_PASSWORD"
export OCI_VERSION="${CONFORMANCE_VERSION:-${OCI_VERSION:-1.1}}"
export OCI_RESULTS_DIR="$RESULTS_DIR"
export OCI_LOG="${OCI_LOG:-warn}"

# every API the suite knows, deletes included
for v in OCI_API_PING OCI_API_PULL OCI_API_PUSH OCI_API_REFERRER \
  OCI_API_BLOBS_ATOMIC OCI_API_BLOBS_DELETE OCI_API_BLOBS_MOUNT_ANONYMOUS \
  OCI_API_MANIFESTS_ATOMIC OCI_API_MANIFESTS_DELETE \
  OCI_API_TAGS_ATOMIC OCI_API_TAGS_DELETE OCI_API_TAGS_LIST; do
  export "$v=${!v:-true}"
done
# every data set, including the ones off by default (sparse manifests) and sha512
for v in OCI_DATA_IMAGE OCI_DATA_INDEX OCI_DATA_INDEX_LIST OCI_DATA_SPARSE OCI_DATA_ARTIFACT \
  OCI_DATA_SUBJECT OCI_DATA_SUBJECT_MISSING OCI_DATA_ARTIFACT_LIST OCI_DATA_SUBJECT_LIST \
  OCI_DATA_DATA_FIELD OCI_DATA_NONDISTRIBUTABLE OCI_DATA_CUSTOM_FIELDS OCI_DATA_NO_LAYERS \
  OCI_DATA_EMPTY_BLOB OCI_DATA_SHA512; do
  export "$v=${!v:-true}"
done
# OCI_API_BLOBS_DIGEST_HEADER, OCI_API_BLOBS_UPLOAD_CANCEL, OCI_API_MANIFESTS_DIGEST_HEADER and
# OCI_API_MANIFESTS_TAG_PARAM follow OCI_VERSION unless set by the caller.

e2e_log "conformance: $BIN against http://$OCI_REGISTRY as ${OCI_USERNAME:-anonymous}, version $OCI_VERSION"
start=$SECONDS
set +e
"$BIN" >"$RESULTS_DIR/stdout.txt" 2>"$RESULTS_DIR/stderr.txt"
rc=$?
set -e
elapsed=$((SECONDS - start))

# The suite prints a pass/fail tree (800+ lines, kept in stdout.txt) and logs each failure on stderr
# (kept in stderr.txt); show the failing tests, one line each, then the suite's own summary.
if [[ "${CONFORMANCE_VERBOSE:-0}" == 1 ]]; then cat "$RESULTS_DIR/stdout.txt" "$RESULTS_DIR/stderr.txt"; fi
python3 - "$RESULTS_DIR" "${CONFORMANCE_MAX_FAILS:-60}" <<'PY' || true
import os, sys, xml.etree.ElementTree as ET
d, limit = sys.argv[1], int(sys.argv[2])
p = os.path.join(d, "junit.xml")
if not os.path.exists(p):
    print("conformance: no junit.xml written")
    sys.exit(0)
cases = list(ET.parse(p).getroot().iter("testcase"))
status = {}
for c in cases:
    status.setdefault(c.get("status", ""), []).append(c)
failed = status.get("failure", []) + status.get("error", [])
names = {c.get("name", "") for c in failed}
seen, leaves = set(), []
for c in failed:
    n = c.get("name", "")
    # a failing child also fails its parents: report only the deepest ones, once each
    if n in seen or any(o.startswith(n + "/") for o in names):
        continue
    seen.add(n)
    out = c.find("system-out")
    msg = " | ".join(l.strip() for l in ((out.text or "") if out is not None else "").splitlines() if l.strip())
    leaves.append((n.removeprefix("OCI Conformance Test/"), msg))
for n, m in leaves[:limit]:
    print(f"  FAIL {n}: {m[:400]}")
if len(leaves) > limit:
    print(f"  ... {len(leaves) - limit} more failing tests, see junit.xml / report.html")
print(f"conformance: {len(cases)} test cases: {len(status.get('passed', []))} passed, "
      f"{len(failed)} failed, {len(status.get('skipped', []))} skipped "
      f"({len(leaves)} distinct failing tests)")
PY
# the suite's closing summary: per-API and per-data-set Pass/FAIL/Skip/Disabled
sed -n '/^OCI Conformance Result/,$p' "$RESULTS_DIR/stdout.txt"
e2e_log "conformance finished in ${elapsed}s, exit $rc; results in $RESULTS_DIR"
exit "$rc"
