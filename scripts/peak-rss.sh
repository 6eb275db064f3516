#!/usr/bin/env bash
# Peak memory of one `POST /api/calls/outbound` campaign request: for each body,
# a fresh `callflow serve` (dispatcher off, a private redis-server) takes the
# request, and its peak resident set (VmHWM in /proc/<pid>/status) is printed
# with the answer. Prints figures; asserts nothing.
#
#   scripts/peak-rss.sh [path/to/callflow]      (default: target/release/callflow)
#   FLOWS_DIR=... to serve other flows (e.g. an older build's)
#
# Bodies: the largest accepted campaign (250,000 contacts, ~6 MB) and a refused
# one of 2.7 million contacts (~62 MB, under the 64 MiB body limit).
set -euo pipefail

bin=${1:-target/release/callflow}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$bin" ] || { echo "no callflow binary at $bin (cargo build --release)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is needed" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Bodies. Accepted: 250,000 distinct dialable New York numbers.
python3 - "$work" <<'EOF'
import sys
work = sys.argv[1]
codes = [212, 646, 718, 917, 347, 332, 929, 315, 518, 585, 607, 631, 716,
         845, 914, 516, 934, 680, 838, 201, 973, 908, 732, 862, 551]
with open(f"{work}/accepted.json", "w") as f:
    f.write('{"contacts":[')
    f.write(",".join(f'{{"to":"+1{codes[i // 10000]}555{i % 10000:04d}"}}' for i in range(250_000)))
    f.write("]}")
with open(f"{work}/refused.json", "w") as f:
    f.write('{"contacts":[')
    f.write(",".join('{"to":"+12125550100"}' for _ in range(2_700_000)))
    f.write("]}")
EOF

measure() {
  local name=$1 body=$2
  local redis_port port
  redis_port=$(free_port)
  redis-server --port "$redis_port" --save '' --appendonly no --daemonize no >"$work/redis-$name.log" 2>&1 &
  pids+=($!)
  port=$(free_port)
  PORT=$port BIND=127.0.0.1 PUBLIC_BASE_URL="http://127.0.0.1:$port" \
    REDIS_URL="redis://127.0.0.1:$redis_port" API_TOKEN=peak-rss-token-0123456789 \
    TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000 TWILIO_AUTH_TOKEN=unused \
    TWILIO_VOICE_NUMBER=+15550001111 TWILIO_API_BASE_URL=http://127.0.0.1:9 \
    COMPANY_NAME="Peak RSS" CALL_PURPOSE="measuring memory" \
    FLOWS_DIR="${FLOWS_DIR:-$root/flows}" DISPATCHER_ENABLED=false CALLFLOW_DATA_DIR="$work/data-$name" \
    RUST_LOG=warn "$bin" serve >"$work/serve-$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "callflow serve did not start:" >&2; cat "$work/serve-$name.log" >&2; exit 1
  fi
  local idle
  idle=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  local started answer took
  started=$(date +%s.%N)
  answer=$(curl -s -o "$work/answer-$name.json" -w '%{http_code}' \
    -H 'Authorization: Bearer peak-rss-token-0123456789' -H 'Content-Type: application/json' \
    --data-binary "@$body" "http://127.0.0.1:$port/api/calls/outbound")
  took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$started" "$(date +%s.%N)")
  local peak
  peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  printf '%-9s body %6.1f MB  answer %s in %5s s  peak RSS %7.1f MB (idle %5.1f MB)  %s\n' \
    "$name" "$(python3 -c "import os,sys; print(os.path.getsize(sys.argv[1]) / 1e6)" "$body")" \
    "$answer" "$took" "$(awk -v k="$peak" 'BEGIN {print k / 1024}')" "$(awk -v k="$idle" 'BEGIN {print k / 1024}')" \
    "$(head -c 160 "$work/answer-$name.json" | tr '\n' ' ')"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

measure accepted "$work/accepted.json"
measure refused "$work/refused.json"
