#!/usr/bin/env bash
# Runs every test: unit tests, TwiML snapshots and the integration tests against
# a real redis-server and the Twilio simulator, for the whole workspace (callflow
# and its crates twilio-sim and callflow-bench). Installs what the tests need
# when it is missing: redis-server; Chromium with Node.js and playwright-core for
# the console's browser test; the Python tools the API description's tests run
# (openapi-spec-validator, schemathesis) in a virtual environment under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
bash scripts/ensure-browser.sh
bash scripts/python-tools.sh
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --locked --workspace --all-targets -- -D warnings
  # The production build: no demo, no benchmark, no simulator.
  cargo clippy --locked --all-targets --no-default-features -- -D warnings
fi
# CI=true makes a missing or changed snapshot fail instead of being written.
# The fault suite runs on its own afterwards, with its output shown: its
# figures are the point (cargo hides the output of passing tests).
CI="${CI:-true}" cargo test --locked --workspace -- --skip fault_suite::
CI="${CI:-true}" cargo test --locked --test it fault_suite:: -- --nocapture
# The Dockerfile, built and run against a real Redis (podman).
bash scripts/container-check.sh
