#!/usr/bin/env bash
# Round trips with real registry clients against Berth over plain HTTP on 127.0.0.1, as a
# non-admin project member (developer, role 2). Every push is pulled back and compared by digest
# (and the bytes by sha256 where a client writes files).
#
#   BERTH_URL=host:port   registry to test; when unset, a Berth is started (see e2e/lib.sh)
#   BERTH_USER/PASSWORD   credentials; when BERTH_USER is unset, user "e2e-dev" is created and made
#                         developer of project $E2E_PROJECT (needs BERTH_ADMIN_PASSWORD);
#                         BERTH_USER='' runs anonymously (e.g. the CNCF reference registry, no auth)
#   E2E_PROJECT           project (first path component of every repository), default "e2e"
#   E2E_REFERRERS_API     1 (default): also require the OCI 1.1 referrers API and OCI-Subject;
#                         0: skip those checks (the reference registry has no referrers API)
#   E2E_ONLY              space separated subset of groups: skopeo crane regctl oras helm cosign
#                         multiarch ctr (default: all; logins always run, cosign adds crane, ctr
#                         adds skopeo)
#   E2E_KEEP_TMP=1        keep the temp dir (logs of every step are in it)
#
# Output: one "ok - NAME" / "not ok - NAME" line per step (with the step's log tail on failure),
# then "N passed, M failed, K skipped"; exit status 1 when M > 0.
set -euo pipefail
# shellcheck source=e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for t in crane regctl oras helm cosign; do
  [[ -x "$BERTH_TOOLS_DIR/$t" ]] || e2e_die "$BERTH_TOOLS_DIR/$t missing: run scripts/install-tools.sh"
done
for t in skopeo ctr containerd jq curl python3; do
  command -v "$t" >/dev/null || e2e_die "$t missing: run scripts/install-tools.sh"
done

PROJECT="${E2E_PROJECT:-e2e}"
REFERRERS_API="${E2E_REFERRERS_API:-1}"
e2e_prepare_target "$PROJECT" 2 e2e-dev
R="$BERTH_URL"
RP="$R/$PROJECT"
USER_="$BERTH_USER"
PASS_="$BERTH_PASSWORD"

e2e_tmpdir
T="$E2E_TMP"
mkdir -p "$T/state" "$T/logs" "$T/home"
# Isolate every client's configuration and credential store in the temp dir.
export HOME="$T/home"
export DOCKER_CONFIG="$HOME/.docker"
export REGISTRY_AUTH_FILE="$HOME/.docker/config.json"
export XDG_RUNTIME_DIR="$HOME/run" XDG_CONFIG_HOME="$HOME/.config" XDG_CACHE_HOME="$HOME/.cache"
export XDG_DATA_HOME="$HOME/.local/share"
export HELM_REGISTRY_CONFIG="$HOME/.config/helm/registry/config.json"
export TUF_ROOT="$HOME/.sigstore/root"
export COSIGN_PASSWORD="" COSIGN_YES=true
# cosign verify fetches Sigstore's TUF trusted root from the internet unless told otherwise: point it
# at a closed local port so it fails at once and falls back (key-based verification needs no TUF).
export TUF_MIRROR="http://127.0.0.1:9"
mkdir -p "$DOCKER_CONFIG" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

# ------------------------------------------------------------------ step runner
PASSED=0 FAILED=0 SKIPPED=0
FAILED_NAMES=()
_step_no=0
# groups selected by E2E_ONLY, plus the groups whose pushes they reuse; logins always run
_only=" ${E2E_ONLY:-} "
[[ "$_only" == *" cosign "* ]] && _only+="crane "
[[ "$_only" == *" ctr "* ]] && _only+="skopeo "
want() { [[ -z "${E2E_ONLY:-}" || "$1" == login || "$_only" == *" $1 "* ]]; }

# step NAME FUNC [ARGS...]: runs FUNC in a subshell with errexit, output to a log file
step() {
  local name="$1" rc log
  shift
  _step_no=$((_step_no + 1))
  log="$T/logs/$(printf '%02d' "$_step_no")-$(printf '%s' "$name" | tr -cs 'a-zA-Z0-9._-' '_' | cut -c1-60).log"
  set +e
  (
    set -eo pipefail
    "$@"
  ) >"$log" 2>&1 </dev/null
  rc=$?
  set -e
  if ((rc == 0)); then
    PASSED=$((PASSED + 1))
    echo "ok - $name"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    echo "not ok - $name"
    tail -n "${E2E_LOG_LINES:-25}" "$log" | sed 's/^/#   /'
  fi
}
skip() {
  SKIPPED=$((SKIPPED + 1))
  echo "ok - $1 # SKIP $2"
}

# state shared between steps (each step runs in a subshell)
put() { printf '%s' "$2" >"$T/state/$1"; }
get() {
  [[ -s "$T/state/$1" ]] || { echo "missing state '$1' (an earlier step failed)" >&2; return 1; }
  cat "$T/state/$1"
}

assert_eq() { # EXPECTED ACTUAL WHAT
  if [[ "$1" != "$2" ]]; then
    echo "assertion failed: $3: expected '$1', got '$2'" >&2
    return 1
  fi
  echo "ok: $3 = $2"
}
assert_contains() { # HAYSTACK_LINES NEEDLE WHAT
  if ! grep -qxF -- "$2" <<<"$1"; then
    printf 'assertion failed: %s: %s not in:\n%s\n' "$3" "$2" "$1" >&2
    return 1
  fi
  echo "ok: $3 contains $2"
}
sha256_of() { echo "sha256:$(sha256sum "${1:--}" | cut -d' ' -f1)"; }
run() { # echo a command, then run it
  printf '+ %s\n' "$*" >&2
  "$@"
}

# curl a registry path with the test user's credentials (Basic; the server accepts it on /v2)
reg_curl() {
  local args=(-sS --max-time 30)
  if [[ -n "$USER_" ]]; then args+=(-u "$USER_:$PASS_"); fi
  curl "${args[@]}" "$@"
}

# ------------------------------------------------------------------ client flags
CRANE=(crane --insecure)
ORAS_FLAGS=(--plain-http)
COSIGN_FLAGS=(--allow-http-registry --allow-insecure-registry)
SKOPEO_CREDS=()
CTR_USER=()
if [[ -n "$USER_" ]]; then
  CTR_USER=(--user "$USER_:$PASS_")
fi
regctl registry set --skip-check --tls disabled "$R" >/dev/null

# ------------------------------------------------------------------ fixtures
# An OCI image layout written by hand: 2 small random gzip layers, config, manifest, index.json.
python3 - "$T/layout" <<'PY' >"$T/state/layout_digest"
import gzip, hashlib, io, json, os, sys, tarfile, time
root = sys.argv[1]
blobs = os.path.join(root, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)
layers, diff_ids = [], []
for i, size in enumerate((256 * 1024, 64 * 1024)):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        payload = os.urandom(size)
        ti = tarfile.TarInfo(f"layer{i}/random.bin")
        ti.size, ti.mtime, ti.mode = len(payload), int(time.time()), 0o644
        tf.addfile(ti, io.BytesIO(payload))
    raw = raw.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    d, n = put(gzip.compress(raw, mtime=0))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
config = {"architecture": "amd64", "os": "linux",
          "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
          "rootfs": {"type": "layers", "diff_ids": diff_ids},
          "history": [{"created_by": "berth e2e"} for _ in layers]}
cd, cn = put(json.dumps(config, separators=(",", ":")).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
            "layers": layers, "annotations": {"org.opencontainers.image.title": "berth-e2e"}}
md, mn = put(json.dumps(manifest, indent=2).encode())
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
                        "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(root, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
print(md, end="")
PY

# Layer tarballs for crane append (one file of random bytes each).
mk_layer_tar() { # NAME SIZE_BYTES
  mkdir -p "$T/src/$1"
  head -c "$2" /dev/urandom >"$T/src/$1/$1.bin"
  tar -C "$T/src/$1" -cf "$T/src/$1.tar" "$1.bin"
}
mk_layer_tar crane 1048576
mk_layer_tar amd64 131072
mk_layer_tar arm64 131072

# ================================================================== login
login_skopeo() { run skopeo login --tls-verify=false -u "$USER_" -p "$PASS_" "$R"; }
login_crane() { run crane auth login "$R" -u "$USER_" -p "$PASS_"; }
login_regctl() { run regctl registry login "$R" -u "$USER_" -p "$PASS_"; }
login_oras() { run oras login "${ORAS_FLAGS[@]}" -u "$USER_" -p "$PASS_" "$R"; }
login_helm() { run helm registry login --plain-http -u "$USER_" -p "$PASS_" "$R"; }
login_wrong_password() {
  if skopeo login --tls-verify=false --authfile "$T/wrong-auth.json" -u "$USER_" -p "not-the-password" "$R"; then
    echo "login with a wrong password succeeded" >&2
    return 1
  fi
}
if want login; then
  if [[ -n "$USER_" ]]; then
    step "skopeo login" login_skopeo
    step "crane auth login" login_crane
    step "regctl registry login" login_regctl
    step "oras login" login_oras
    step "helm registry login" login_helm
    step "login with a wrong password is refused" login_wrong_password
  else
    skip "client logins" "anonymous registry (BERTH_USER empty)"
  fi
fi

# ================================================================== skopeo
skopeo_push() {
  local src
  src="$(get layout_digest)"
  run skopeo copy --dest-tls-verify=false --preserve-digests "oci:$T/layout:v1" "docker://$RP/skopeo:v1"
  assert_eq "$src" "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$RP/skopeo:v1")" "digest reported by the registry"
  assert_eq "$src" "$(skopeo inspect --tls-verify=false --raw "docker://$RP/skopeo:v1" | sha256_of)" "sha256 of the served manifest"
}
skopeo_pull() {
  local src got f
  src="$(get layout_digest)"
  run skopeo copy --src-tls-verify=false --preserve-digests "docker://$RP/skopeo:v1" "oci:$T/skopeo-pull:v1"
  got="$(jq -r '.manifests[0].digest' "$T/skopeo-pull/index.json")"
  assert_eq "$src" "$got" "manifest digest after the round trip"
  for f in "$T/layout/blobs/sha256/"*; do
    cmp "$f" "$T/skopeo-pull/blobs/sha256/$(basename "$f")"
  done
  echo "all $(ls "$T/layout/blobs/sha256" | wc -l) blobs byte-identical"
}
skopeo_anonymous_refused() {
  if skopeo inspect --tls-verify=false --no-creds --raw "docker://$RP/skopeo:v1"; then
    echo "anonymous read of a private project succeeded" >&2
    return 1
  fi
}
if want skopeo; then
  step "skopeo copy oci layout -> registry (digest preserved)" skopeo_push
  step "skopeo copy registry -> oci layout (byte-identical blobs)" skopeo_pull
  if [[ -n "$USER_" ]]; then
    step "anonymous pull from a private project is refused" skopeo_anonymous_refused
  fi
fi

# ================================================================== crane
crane_append() {
  local ref
  ref="$(run "${CRANE[@]}" append --oci-empty-base -f "$T/src/crane.tar" -t "$RP/crane:v1")"
  echo "$ref"
  put crane_digest "${ref##*@}"
  assert_eq "${ref##*@}" "$("${CRANE[@]}" digest "$RP/crane:v1")" "crane digest"
  assert_eq "${ref##*@}" "$("${CRANE[@]}" manifest "$RP/crane:v1" | sha256_of)" "sha256 of the served manifest"
}
crane_push_layout() {
  local src ref
  src="$(get layout_digest)"
  ref="$(run "${CRANE[@]}" push "$T/layout" "$RP/crane-layout:v1")"
  assert_eq "$src" "${ref##*@}" "digest of the pushed layout"
  assert_eq "$src" "$("${CRANE[@]}" digest "$RP/crane-layout:v1")" "crane digest"
}
crane_pull() {
  local dig layer
  dig="$(get crane_digest)"
  run "${CRANE[@]}" pull --format oci "$RP/crane:v1" "$T/crane-pull"
  assert_eq "$dig" "$(jq -r '.manifests[0].digest' "$T/crane-pull/index.json")" "pulled manifest digest"
  layer="$("${CRANE[@]}" manifest "$RP/crane:v1" | jq -r '.layers[0].digest')"
  assert_eq "$layer" "$(sha256_of "$T/crane-pull/blobs/sha256/${layer#sha256:}")" "pulled layer bytes"
  assert_eq "$layer" "$("${CRANE[@]}" blob "$RP/crane@$layer" | sha256_of)" "crane blob"
  assert_eq "$(sha256_of "$T/src/crane/crane.bin")" \
    "$("${CRANE[@]}" export "$RP/crane:v1" - | tar -xOf - crane.bin | sha256_of)" "file content after crane export"
}
crane_copy() {
  local dig
  dig="$(get crane_digest)"
  run "${CRANE[@]}" copy "$RP/crane:v1" "$RP/crane-copy:v1"
  assert_eq "$dig" "$("${CRANE[@]}" digest "$RP/crane-copy:v1")" "digest of the copy"
}
crane_tag_ls() {
  local dig tags
  dig="$(get crane_digest)"
  run "${CRANE[@]}" tag "$RP/crane:v1" v2
  assert_eq "$dig" "$("${CRANE[@]}" digest "$RP/crane:v2")" "digest of the new tag"
  tags="$("${CRANE[@]}" ls "$RP/crane")"
  assert_contains "$tags" v1 "crane ls"
  assert_contains "$tags" v2 "crane ls"
}
if want crane; then
  step "crane append (push a new image)" crane_append
  step "crane push oci layout" crane_push_layout
  step "crane pull/blob/export (byte-identical)" crane_pull
  step "crane copy" crane_copy
  step "crane tag + ls" crane_tag_ls
fi

# ================================================================== regctl
regctl_copy() {
  local dig
  dig="$(get crane_digest)"
  run regctl image copy "$RP/crane:v1" "$RP/regctl:v1"
  assert_eq "$dig" "$(regctl image digest "$RP/regctl:v1")" "regctl image digest"
}
regctl_manifest_get() {
  local dig layer
  dig="$(get crane_digest)"
  assert_eq "$dig" "$(regctl manifest get --format raw-body "$RP/regctl:v1" | sha256_of)" "sha256 of regctl manifest get"
  layer="$(regctl manifest get --format '{{ (index .Layers 0).Digest }}' "$RP/regctl:v1")"
  assert_eq "$layer" "$(regctl blob get "$RP/regctl" "$layer" | sha256_of)" "regctl blob get"
}
regctl_tag_ls() {
  assert_contains "$(regctl tag ls "$RP/regctl")" v1 "regctl tag ls"
}
if want regctl; then
  step "regctl image copy" regctl_copy
  step "regctl manifest get + blob get" regctl_manifest_get
  step "regctl tag ls" regctl_tag_ls
fi

# ================================================================== oras
oras_push() {
  mkdir -p "$T/oras" && cd "$T/oras"
  head -c 307200 /dev/urandom >artifact.bin
  run oras push "${ORAS_FLAGS[@]}" --artifact-type application/vnd.berth.e2e.test \
    --export-manifest "$T/oras/manifest.json" "$RP/oras:v1" artifact.bin:application/vnd.berth.e2e.file
  local dig
  dig="$(sha256_of "$T/oras/manifest.json")"
  put oras_digest "$dig"
  assert_eq "$dig" "$(oras resolve "${ORAS_FLAGS[@]}" "$RP/oras:v1")" "oras resolve"
  assert_eq "$dig" "$(oras manifest fetch "${ORAS_FLAGS[@]}" "$RP/oras:v1" | sha256_of)" "sha256 of oras manifest fetch"
}
oras_pull() {
  run oras pull "${ORAS_FLAGS[@]}" -o "$T/oras-pull" "$RP/oras:v1"
  cmp "$T/oras/artifact.bin" "$T/oras-pull/artifact.bin"
  echo "artifact.bin byte-identical"
}
oras_attach() {
  cd "$T/oras"
  echo "berth e2e signature $(date +%s%N)" >sig.txt
  run oras attach "${ORAS_FLAGS[@]}" --artifact-type application/vnd.berth.e2e.sig \
    --export-manifest "$T/oras/attach.json" "$RP/oras:v1" sig.txt:text/plain
  put oras_attach_digest "$(sha256_of "$T/oras/attach.json")"
  assert_eq "$(get oras_digest)" "$(jq -r '.subject.digest' "$T/oras/attach.json")" "subject of the attached artifact"
}
oras_discover() {
  local att out extra=()
  att="$(get oras_attach_digest)"
  if [[ "$REFERRERS_API" == 1 ]]; then extra=(--distribution-spec v1.1-referrers-api); fi
  out="$(run oras discover "${ORAS_FLAGS[@]}" "${extra[@]}" --format json "$RP/oras:v1")"
  echo "$out"
  assert_contains "$(jq -r '.. | objects | select(has("digest")) | .digest' <<<"$out")" "$att" "oras discover"
}
referrers_api() {
  local subj att hdrs body
  subj="$(get oras_digest)"
  att="$(get oras_attach_digest)"
  hdrs="$T/oras/referrers.headers"
  body="$(reg_curl -D "$hdrs" -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$R/v2/$PROJECT/oras/referrers/$subj")"
  cat "$hdrs"
  echo "$body"
  assert_eq 200 "$(awk 'NR==1 {print $2}' "$hdrs")" "referrers status"
  assert_eq "application/vnd.oci.image.index.v1+json" \
    "$(tr -d '\r' <"$hdrs" | awk -F': ' 'tolower($1)=="content-type" {print $2}')" "referrers Content-Type"
  assert_contains "$(jq -r '.manifests[].digest' <<<"$body")" "$att" "referrers index"
  assert_eq application/vnd.berth.e2e.sig \
    "$(jq -r --arg d "$att" '.manifests[] | select(.digest == $d) | .artifactType' <<<"$body")" "artifactType of the referrer"
  # filtered by artifactType
  body="$(reg_curl "http://$R/v2/$PROJECT/oras/referrers/$subj?artifactType=application/vnd.berth.e2e.other")"
  assert_eq 0 "$(jq '.manifests | length' <<<"$body")" "referrers filtered by another artifactType"
  # the registry announced the subject (OCI-Subject), so oras must not have written a fallback tag
  if oras repo tags "${ORAS_FLAGS[@]}" "$RP/oras" | grep -qx "sha256-${subj#sha256:}"; then
    echo "fallback tag sha256-${subj#sha256:} exists: OCI-Subject missing on manifest PUT?" >&2
    return 1
  fi
}
if want oras; then
  step "oras push file artifact" oras_push
  step "oras pull (byte-identical)" oras_pull
  step "oras attach" oras_attach
  step "oras discover finds the attached artifact" oras_discover
  if [[ "$REFERRERS_API" == 1 ]]; then
    step "referrers API lists the attachment (no fallback tag)" referrers_api
  else
    skip "referrers API lists the attachment (no fallback tag)" "E2E_REFERRERS_API=0"
  fi
fi

# ================================================================== helm
helm_push() {
  local c="$T/chart/berth-e2e" out dig
  mkdir -p "$c/templates"
  cat >"$c/Chart.yaml" <<'YAML'
apiVersion: v2
name: berth-e2e
description: tiny chart for the Berth e2e tests
type: application
version: 0.1.0
appVersion: "1.0.0"
YAML
  printf 'message: hello from berth\n' >"$c/values.yaml"
  cat >"$c/templates/configmap.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-e2e
data:
  message: {{ .Values.message | quote }}
YAML
  run helm package "$c" -d "$T/helm"
  out="$(run helm push "$T/helm/berth-e2e-0.1.0.tgz" "oci://$RP/charts" --plain-http 2>&1)"
  echo "$out"
  dig="$(sed -n 's/^Digest: //p' <<<"$out")"
  [[ "$dig" == sha256:* ]] || { echo "no digest in helm push output" >&2; return 1; }
  put helm_digest "$dig"
  assert_eq "$dig" "$("${CRANE[@]}" digest "$RP/charts/berth-e2e:0.1.0")" "chart manifest digest"
}
helm_pull() {
  mkdir -p "$T/helm-pull" "$T/helm-pull-latest"
  run helm pull "oci://$RP/charts/berth-e2e" --version 0.1.0 --plain-http -d "$T/helm-pull"
  cmp "$T/helm/berth-e2e-0.1.0.tgz" "$T/helm-pull/berth-e2e-0.1.0.tgz"
  echo "chart archive byte-identical"
  # without --version helm resolves the newest version through the tag list
  run helm pull "oci://$RP/charts/berth-e2e" --plain-http -d "$T/helm-pull-latest"
  cmp "$T/helm/berth-e2e-0.1.0.tgz" "$T/helm-pull-latest/berth-e2e-0.1.0.tgz"
  run helm show chart "oci://$RP/charts/berth-e2e" --version 0.1.0 --plain-http | grep -qx 'name: berth-e2e'
}
if want helm; then
  step "helm package + push oci://" helm_push
  step "helm pull (byte-identical) + show chart" helm_pull
fi

# ================================================================== cosign
cosign_keys() {
  mkdir -p "$T/cosign" && cd "$T/cosign"
  run cosign generate-key-pair
  test -s cosign.key && test -s cosign.pub
}
cosign_sign_tag() {
  local dig
  dig="$(get crane_digest)"
  cd "$T/cosign"
  run cosign sign "${COSIGN_FLAGS[@]}" --key cosign.key --tlog-upload=false "$RP/crane@$dig"
  assert_contains "$("${CRANE[@]}" ls "$RP/crane")" "sha256-${dig#sha256:}.sig" "signature tag"
}
cosign_verify_tag() {
  local dig
  dig="$(get crane_digest)"
  cd "$T/cosign"
  run cosign verify "${COSIGN_FLAGS[@]}" --key cosign.pub --insecure-ignore-tlog=true "$RP/crane@$dig"
}
cosign_sign_referrers() {
  local dig
  dig="$(get crane_digest)"
  cd "$T/cosign"
  COSIGN_EXPERIMENTAL=1 run cosign sign "${COSIGN_FLAGS[@]}" --key cosign.key --tlog-upload=false \
    --registry-referrers-mode=oci-1-1 "$RP/crane-copy@$dig"
  if [[ "$REFERRERS_API" == 1 ]]; then
    local body
    body="$(reg_curl -H 'Accept: application/vnd.oci.image.index.v1+json' \
      "http://$R/v2/$PROJECT/crane-copy/referrers/$dig")"
    echo "$body"
    [[ "$(jq '.manifests | length' <<<"$body")" -ge 1 ]] || { echo "no referrer for the cosign signature" >&2; return 1; }
  fi
}
cosign_verify_referrers() {
  local dig
  dig="$(get crane_digest)"
  cd "$T/cosign"
  COSIGN_EXPERIMENTAL=1 run cosign verify "${COSIGN_FLAGS[@]}" --key cosign.pub --insecure-ignore-tlog=true \
    --experimental-oci11 "$RP/crane-copy@$dig"
}
if want cosign; then
  step "cosign generate-key-pair" cosign_keys
  step "cosign sign (tag scheme)" cosign_sign_tag
  step "cosign verify (tag scheme)" cosign_verify_tag
  step "cosign sign (referrers, oci-1-1)" cosign_sign_referrers
  step "cosign verify (referrers, oci-1-1)" cosign_verify_referrers
fi

# ================================================================== multi-arch index
multiarch_push() {
  local arch ref dig
  for arch in amd64 arm64; do
    run "${CRANE[@]}" append --oci-empty-base -f "$T/src/$arch.tar" -t "$RP/multi:$arch-base"
    ref="$(run "${CRANE[@]}" mutate --set-platform "linux/$arch" -t "$RP/multi:$arch" "$RP/multi:$arch-base")"
    put "multi_$arch" "${ref##*@}"
  done
  ref="$(run "${CRANE[@]}" index append -m "$RP/multi:amd64" -m "$RP/multi:arm64" -t "$RP/multi:latest")"
  dig="${ref##*@}"
  put multi_index "$dig"
  assert_eq "$dig" "$("${CRANE[@]}" digest "$RP/multi:latest")" "index digest"
  assert_eq "$dig" "$("${CRANE[@]}" manifest "$RP/multi:latest" | sha256_of)" "sha256 of the served index"
}
multiarch_crane() {
  local arch
  for arch in amd64 arm64; do
    assert_eq "$(get "multi_$arch")" "$("${CRANE[@]}" digest --platform "linux/$arch" "$RP/multi:latest")" "crane digest --platform linux/$arch"
  done
  run "${CRANE[@]}" pull --platform linux/arm64 --format oci "$RP/multi:latest" "$T/multi-arm64"
  assert_eq "$(get multi_arm64)" "$(jq -r '.manifests[0].digest' "$T/multi-arm64/index.json")" "crane pull --platform linux/arm64"
  assert_eq "$(sha256_of "$T/src/arm64/arm64.bin")" \
    "$("${CRANE[@]}" export --platform linux/arm64 "$RP/multi:latest" - | tar -xOf - arm64.bin | sha256_of)" "arm64 file content"
}
multiarch_regctl() {
  local arch
  for arch in amd64 arm64; do
    assert_eq "$(get "multi_$arch")" "$(regctl image digest --platform "linux/$arch" "$RP/multi:latest")" "regctl image digest --platform linux/$arch"
  done
  run regctl image copy "$RP/multi:latest" "$RP/multi-copy:latest"
  assert_eq "$(get multi_index)" "$(regctl image digest "$RP/multi-copy:latest")" "index digest after regctl image copy"
}
multiarch_skopeo() {
  # skopeo inspect's .Digest is the index digest; the platform choice shows in .Architecture
  assert_eq arm64 \
    "$(skopeo inspect --tls-verify=false --override-os linux --override-arch arm64 --format '{{.Architecture}}' "docker://$RP/multi:latest")" \
    "skopeo inspect --override-arch arm64"
  run skopeo copy --src-tls-verify=false --override-os linux --override-arch arm64 --preserve-digests \
    "docker://$RP/multi:latest" "oci:$T/skopeo-arm64:latest"
  assert_eq "$(get multi_arm64)" "$(jq -r '.manifests[0].digest' "$T/skopeo-arm64/index.json")" "skopeo copy --override-arch arm64"
  # skopeo 1.9 rewrites the index (it drops the descriptors' artifactType that crane writes, and so
  # refuses --preserve-digests): compare the per-platform manifests of the copy instead
  run skopeo copy --src-tls-verify=false --dest-tls-verify=false --all \
    "docker://$RP/multi:latest" "docker://$RP/multi-skopeo:latest"
  local arch
  for arch in amd64 arm64; do
    assert_eq "$(get "multi_$arch")" "$("${CRANE[@]}" digest --platform "linux/$arch" "$RP/multi-skopeo:latest")" \
      "linux/$arch manifest after skopeo copy --all"
  done
}
if want multiarch; then
  step "multi-arch index push (crane index append)" multiarch_push
  step "multi-arch per-platform pull (crane)" multiarch_crane
  step "multi-arch per-platform digest + copy (regctl)" multiarch_regctl
  step "multi-arch per-platform inspect + copy --all (skopeo)" multiarch_skopeo
fi

# ================================================================== containerd (ctr)
# ctr is only a client of the containerd daemon: start a private containerd (as root) whose root,
# state, config and sockets all live in the temp dir, and stop it on exit.
CTRD="$T/containerd"
CTR=(ctr --address "$CTRD/containerd.sock" --namespace berth-e2e)
CONTAINERD_PID=""
containerd_start() {
  mkdir -p "$CTRD/root" "$CTRD/state"
  cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$CTRD/containerd.sock"
[ttrpc]
  address = "$CTRD/containerd.sock.ttrpc"
[debug]
  address = "$CTRD/debug.sock"
[metrics]
  address = ""
EOF
  containerd --config "$CTRD/config.toml" >"$CTRD/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  e2e_on_exit containerd_stop
  local i
  for ((i = 0; i < 100; i++)); do
    if "${CTR[@]}" version >/dev/null 2>&1; then return 0; fi
    kill -0 "$CONTAINERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$CTRD/containerd.log" >&2
  return 1
}
containerd_stop() {
  [[ -n "$CONTAINERD_PID" ]] || return 0
  kill -TERM "$CONTAINERD_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do kill -0 "$CONTAINERD_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$CONTAINERD_PID" 2>/dev/null || true
  wait "$CONTAINERD_PID" 2>/dev/null || true
  CONTAINERD_PID=""
}
ctr_pull() {
  local src
  src="$(get layout_digest)"
  run "${CTR[@]}" images pull --plain-http "${CTR_USER[@]}" --snapshotter native --platform linux/amd64 "$RP/skopeo:v1"
  assert_eq "$src" "$("${CTR[@]}" images ls | awk -v r="$RP/skopeo:v1" '$1 == r {print $3}')" "digest of the pulled image"
}
ctr_push() {
  local src
  src="$(get layout_digest)"
  run "${CTR[@]}" images tag "$RP/skopeo:v1" "$RP/ctr:v1"
  run "${CTR[@]}" images push --plain-http "${CTR_USER[@]}" "$RP/ctr:v1"
  assert_eq "$src" "$("${CRANE[@]}" digest "$RP/ctr:v1")" "digest after ctr push"
}
ctr_pull_platform() {
  local arm
  arm="$(get multi_arm64)"
  run "${CTR[@]}" images pull --plain-http "${CTR_USER[@]}" --snapshotter native --platform linux/arm64 "$RP/multi:latest"
  assert_eq "$(get multi_index)" "$("${CTR[@]}" images ls | awk -v r="$RP/multi:latest" '$1 == r {print $3}')" "index digest"
  "${CTR[@]}" content ls | awk 'NR > 1 {print $1}' >"$T/ctr-content"
  assert_contains "$(cat "$T/ctr-content")" "$arm" "content store has the arm64 manifest"
  if grep -qxF "$(get multi_amd64)" "$T/ctr-content"; then
    echo "the amd64 manifest was fetched too" >&2
    return 1
  fi
}
if want ctr; then
  if containerd_start >"$T/logs/containerd-start.log" 2>&1; then
    step "ctr images pull" ctr_pull
    step "ctr images push" ctr_push
    if want multiarch; then step "ctr images pull --platform linux/arm64 (index)" ctr_pull_platform; fi
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("containerd start")
    echo "not ok - containerd start"
    sed 's/^/#   /' "$T/logs/containerd-start.log"
  fi
fi

# ================================================================== summary
if ((FAILED)); then
  printf '# failed: %s\n' "${FAILED_NAMES[@]}"
  [[ "${E2E_KEEP_TMP:-0}" == 1 ]] && echo "# step logs in $T/logs"
fi
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
((FAILED == 0))
