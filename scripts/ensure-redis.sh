#!/usr/bin/env bash
# Installs redis-server through apt-get when it is missing (Debian/Ubuntu).
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
echo "redis-server not found: installing it with apt-get" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "No apt-get here: install Redis yourself (e.g. 'brew install redis') and run again." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq redis-server >/dev/null
# The tests and the demo start their own redis-server; the distribution's
# service is not needed (it may not even run in a container).
command -v redis-server >/dev/null
