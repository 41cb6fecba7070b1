#!/usr/bin/env bash
# Installs Debian's redis-server when missing and starts a throwaway instance for the tests on
# a free loopback port (no persistence). Prints the URL to use as BERTH_TEST_REDIS_URL.
# Idempotent and quick when already installed; the instance is left running (a test machine's
# next run starts its own on another port).
#
#   BERTH_REDIS_DIR   working directory of the instance (default /var/cache/berth/redis)
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache policy redis-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -qq >&2
  fi
  apt-get install -y -qq redis-server >&2
fi

dir="${BERTH_REDIS_DIR:-/var/cache/berth/redis}"
mkdir -p "$dir"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
  --dir "$dir" --pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log" >&2
for _ in $(seq 1 50); do
  if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
    echo "redis://127.0.0.1:$port/0"
    exit 0
  fi
  sleep 0.1
done
echo "redis-server did not answer on port $port" >&2
exit 1
