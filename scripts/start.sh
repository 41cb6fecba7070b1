#!/usr/bin/env bash
# Builds the console, then starts Berth from a release build with the console embedded.
# Arguments go to `berth serve`, e.g. scripts/start.sh --listen 0.0.0.0:5000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build-frontend.sh
exec cargo run --release --bin berth -- serve "$@"
