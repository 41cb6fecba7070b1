#!/usr/bin/env bash
# Installs the real registry clients and the OCI conformance suite used by e2e/.
# Idempotent: a second run checks dpkg and the cached binaries and does nothing else.
#
#   BERTH_TOOLS_DIR   where the Go tools go (default /var/cache/berth/bin)
#   BERTH_TOOLS_ONLY  space separated subset of Go tools to build (default: all)
#
# Debian packages: skopeo, containerd (ctr), jq, curl, python3, ca-certificates.
# Go tools: built once with `go install <module>@<pinned version>` through the Go module proxy.
set -euo pipefail

TOOLS_DIR="${BERTH_TOOLS_DIR:-/var/cache/berth/bin}"
APT_PACKAGES=(skopeo containerd jq curl python3 ca-certificates)

# name  module-path@version  (binary produced by go install is the last path element)
# The conformance suite is its own module (github.com/opencontainers/distribution-spec/conformance);
# the proxy only serves it as a pseudo-version. v0.0.0-20260831232431-97274622c111 is main of
# 2026-08-31, after 967efdc0 (2026-07-16, "conformance redesign": the OCI_* configured program).
CONFORMANCE_VERSION="v0.0.0-20260831232431-97274622c111"
GO_TOOLS=(
  "oci-conformance github.com/opencontainers/distribution-spec/conformance@${CONFORMANCE_VERSION}"
  "crane github.com/google/go-containerregistry/cmd/crane@v0.22.1"
  "regctl github.com/regclient/regclient/cmd/regctl@v0.11.7"
  "oras oras.land/oras/cmd/oras@v1.3.6"
  "helm helm.sh/helm/v3/cmd/helm@v3.22.0"
  "cosign github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5"
)

log() { printf '%s\n' "$*"; }

# ---------------------------------------------------------------- Debian packages
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  # refresh the package lists only when one of the missing packages has no candidate
  need_update=0
  for p in "${missing[@]}"; do
    cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [[ -z "$cand" || "$cand" == "(none)" ]]; then need_update=1; fi
  done
  if ((need_update)); then apt-get update -qq; fi
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
for p in "${APT_PACKAGES[@]}"; do
  if [[ " ${missing[*]-} " == *" $p "* ]]; then log "$p: installed (apt)"; else log "$p: already present (apt)"; fi
done

# ---------------------------------------------------------------- Go tools
command -v go >/dev/null || { echo "go not found on PATH" >&2; exit 1; }
mkdir -p "$TOOLS_DIR"
export GOBIN="$TOOLS_DIR"
# go install pkg@version ignores any go.mod in the working directory; no -mod flag needed.
export CGO_ENABLED="${CGO_ENABLED:-0}"

for entry in "${GO_TOOLS[@]}"; do
  name=${entry%% *}
  mod=${entry#* }
  if [[ -n "${BERTH_TOOLS_ONLY:-}" && " $BERTH_TOOLS_ONLY " != *" $name "* ]]; then continue; fi
  if [[ -x "$TOOLS_DIR/$name" ]]; then
    log "$name: already present ($TOOLS_DIR/$name)"
    continue
  fi
  pkg=${mod%@*}
  ver=${mod##*@}
  built=${pkg##*/}
  start=$SECONDS
  ldflags="-s -w"
  if [[ "$name" == oci-conformance ]]; then ldflags+=" -X main.Version=${ver##*-}"; fi
  go install -trimpath -ldflags="$ldflags" "$mod"
  if [[ "$built" != "$name" ]]; then mv -f "$TOOLS_DIR/$built" "$TOOLS_DIR/$name"; fi
  log "$name: installed $ver ($TOOLS_DIR/$name, $((SECONDS - start))s)"
done

# ---------------------------------------------------------------- Python tools
# schemathesis (PyPI, pinned) in its own virtual environment, for e2e/api-schema.sh.
SCHEMATHESIS_VERSION="4.32.5"
VENV="${BERTH_SCHEMATHESIS_VENV:-/var/cache/berth/venv-schemathesis}"
if [[ -n "${BERTH_TOOLS_ONLY:-}" && " $BERTH_TOOLS_ONLY " != *" schemathesis "* ]]; then
  :
elif "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  log "schemathesis: already present ($VENV)"
else
  start=$SECONDS
  if ! dpkg -s python3-venv >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; }
  fi
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
  log "schemathesis: installed $SCHEMATHESIS_VERSION ($VENV, $((SECONDS - start))s)"
fi

# moto's S3 server (PyPI, pinned), for the tests of GC's sweep of dangling multipart uploads:
# s3s-fs 0.14 (the newest that builds with this toolchain) does not list multipart uploads.
MOTO_VERSION="5.2.5"
MOTO_VENV="${BERTH_MOTO_VENV:-/var/cache/berth/venv-moto}"
if [[ -n "${BERTH_TOOLS_ONLY:-}" && " $BERTH_TOOLS_ONLY " != *" moto "* ]]; then
  :
elif "$MOTO_VENV/bin/pip" show moto 2>/dev/null | grep -qx "Version: $MOTO_VERSION" &&
  [[ -x "$MOTO_VENV/bin/moto_server" ]]; then
  log "moto: already present ($MOTO_VENV)"
else
  start=$SECONDS
  if ! dpkg -s python3-venv >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; }
  fi
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install -q "moto[server]==$MOTO_VERSION"
  log "moto: installed $MOTO_VERSION ($MOTO_VENV, $((SECONDS - start))s)"
fi

# ---------------------------------------------------------------- Node packages
# e2e/oidc: the OpenID Connect provider the OIDC tests sign in against (oidc-provider, pinned in
# its package-lock.json). Installed once; `npm ci` again only when the lock file changes.
oidc_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/e2e/oidc"
stamp="$oidc_dir/node_modules/.berth-lock-sha256"
want="$(sha256sum "$oidc_dir/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  log "oidc-provider: already present ($oidc_dir/node_modules)"
else
  command -v npm >/dev/null || { echo "npm not found on PATH" >&2; exit 1; }
  (cd "$oidc_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  printf '%s' "$want" >"$stamp"
  log "oidc-provider: installed ($oidc_dir/node_modules)"
fi

# ---------------------------------------------------------------- distribution registry
# The CNCF distribution registry: the upstream of the proxy-cache test (e2e/proxy.sh) and the
# reference the benchmark compares against.
DISTRIBUTION_VERSION="v3.1.2"
if [[ -x "$TOOLS_DIR/registry" ]]; then
  log "registry: already present ($TOOLS_DIR/registry)"
else
  start=$SECONDS
  go install -trimpath -ldflags="-s -w" \
    "github.com/distribution/distribution/v3/cmd/registry@${DISTRIBUTION_VERSION}"
  log "registry: installed ${DISTRIBUTION_VERSION} ($TOOLS_DIR/registry, $((SECONDS - start))s)"
fi

# ---------------------------------------------------------------- benchmark tools (opt-in)
# Only e2e/bench/run.sh needs these; it sets BERTH_TOOLS_BENCH=1. The test suite never does.
#   wrk       HTTP load generator (Debian)
#   zb        zot's benchmark tool. The Go module proxy here refuses zotregistry.dev, so `go
#             install` fails on these machines; with ZOT_SRC pointing at a zot source tree (for
#             example a checkout of tag v2.1.20), zb is built from it instead.
if [[ "${BERTH_TOOLS_BENCH:-0}" == 1 ]]; then
  if ! dpkg -s wrk >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
    log "wrk: installed (apt)"
  else
    log "wrk: already present (apt)"
  fi
  ZB_VERSION="v2.1.20"
  if [[ -x "$TOOLS_DIR/zb" ]]; then
    log "zb: already present ($TOOLS_DIR/zb)"
  elif [[ -n "${ZOT_SRC:-}" && -f "$ZOT_SRC/cmd/zb/main.go" ]]; then
    (cd "$ZOT_SRC" && go build -trimpath -ldflags="-s -w" -o "$TOOLS_DIR/zb" ./cmd/zb)
    log "zb: built from $ZOT_SRC ($TOOLS_DIR/zb)"
  elif go install -trimpath -ldflags="-s -w" "zotregistry.dev/zot/v2/cmd/zb@${ZB_VERSION}" 2>/dev/null; then
    log "zb: installed ${ZB_VERSION} ($TOOLS_DIR/zb)"
  else
    log "zb: not available (the Go module proxy refuses zotregistry.dev; set ZOT_SRC to a zot source tree)"
  fi
fi
# ---------------------------------------------------------------- S3-compatible test server
# s3s-fs (crates.io, pinned in scripts/s3-server.sh), cached under /var/cache/berth/s3s
bash "$(dirname "${BASH_SOURCE[0]}")/s3-server.sh" install
log "s3s-fs: present (${BERTH_S3S_ROOT:-/var/cache/berth/s3s}/bin/s3s-fs)"
