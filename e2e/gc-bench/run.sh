#!/usr/bin/env bash
# Garbage collection at scale (not a timed test): seeds 1,000,000 blobs and 100,000 manifests
# through the metadata layer and the filesystem, runs GC as a dry run and for real, and prints
# time, rows/s, deleted counts and peak RSS. See docs/benchmarks.md, "Garbage collection".
#
#   e2e/gc-bench/run.sh [--blobs N] [--manifests N] [--database-url postgres://...]
#
# Environment:
#   CARGO_TARGET_DIR   cargo output (default /var/cache/berth/target)
#   GC_BENCH_PROFILE   cargo profile, release (default) or dev
#   GC_BENCH_WORK      scratch directory on the disk under test (default /var/tmp/berth-gc-bench;
#                      about 1.5 GB at the default size); removed at the end
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/berth/target}"
PROFILE="${GC_BENCH_PROFILE:-release}"
(cd "$ROOT" && cargo build --profile "$PROFILE" -p berth-gc-bench)
dir=release
[[ "$PROFILE" == dev ]] && dir=debug
echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(free -g | awk '/^Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg), profile $PROFILE"
exec "$CARGO_TARGET_DIR/$dir/berth-gc-bench" --work "${GC_BENCH_WORK:-/var/tmp/berth-gc-bench}" "$@"
