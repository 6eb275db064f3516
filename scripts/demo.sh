#!/usr/bin/env bash
# Runs the demo: a private redis-server, the built-in Twilio simulator and a
# handful of calls with different callee personas. No Twilio account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
cargo run --locked --quiet -- demo
