#!/usr/bin/env bash
# Installs (once, cached) and starts the S3-compatible server the tests use: s3s-fs, a small
# S3 server storing objects in a directory.
#
#   scripts/s3-server.sh install          build s3s-fs into $BERTH_S3S_ROOT (skipped when present)
#   scripts/s3-server.sh start DIR PORT   start it on 127.0.0.1:PORT storing in DIR, wait until it
#                                         answers, print its pid (the caller stops it)
#
#   BERTH_S3S_ROOT     install root (default /var/cache/berth/s3s; the binary is bin/s3s-fs)
#   Keys: access key "berth", secret "berth-secret" (BERTH_TEST_S3_ACCESS_KEY/SECRET_KEY).
#
# s3s-fs keeps each object's metadata in a file named after base64 of bucket and key, so the
# file name passes Linux's 255-byte limit with long bucket names: sha512 blob keys need buckets
# of at most about 20 characters.
set -euo pipefail

S3S_VERSION=0.14.1 # newer releases need rustc 1.96+
ROOT="${BERTH_S3S_ROOT:-/var/cache/berth/s3s}"
BIN="$ROOT/bin/s3s-fs"
ACCESS_KEY="${BERTH_TEST_S3_ACCESS_KEY:-berth}"
SECRET_KEY="${BERTH_TEST_S3_SECRET_KEY:-berth-secret}"

install() {
  if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$S3S_VERSION"; then
    return 0
  fi
  mkdir -p "$ROOT"
  # its own target dir, so the project's build cache is not disturbed
  CARGO_TARGET_DIR="$ROOT/build" cargo install s3s-fs --version "$S3S_VERSION" --features binary \
    --locked --root "$ROOT" 2>&1 | tail -n 3 \
    || CARGO_TARGET_DIR="$ROOT/build" cargo install s3s-fs --version "$S3S_VERSION" \
      --features binary --root "$ROOT" 2>&1 | tail -n 3
  [[ -x "$BIN" ]]
}

start() {
  local dir="$1" port="$2" pid i
  mkdir -p "$dir"
  "$BIN" --host 127.0.0.1 --port "$port" --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
    "$dir" >"$dir.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 100; i++)); do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
      echo "$pid"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir.log" >&2
  return 1
}

case "${1:-}" in
  install) install ;;
  start) start "$2" "$3" ;;
  *) echo "usage: $0 install | start DIR PORT" >&2; exit 2 ;;
esac
