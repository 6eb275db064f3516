#!/usr/bin/env bash
# Runs every test: unit tests, TwiML snapshots and the integration tests against
# a real redis-server and the Twilio simulator, for the whole workspace (callflow
# and its crates twilio-sim and callflow-bench). Installs redis-server if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --locked --workspace --all-targets -- -D warnings
  # The production build: no demo, no benchmark, no simulator.
  cargo clippy --locked --all-targets --no-default-features -- -D warnings
fi
# CI=true makes a missing or changed snapshot fail instead of being written.
CI="${CI:-true}" cargo test --locked --workspace
