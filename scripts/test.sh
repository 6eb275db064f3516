#!/usr/bin/env bash
# Runs every test: unit tests, TwiML snapshots and the integration tests against
# a real redis-server and the Twilio simulator. Installs redis-server if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --locked --all-targets -- -D warnings
fi
# CI=true makes a missing or changed snapshot fail instead of being written.
CI="${CI:-true}" cargo test --locked
