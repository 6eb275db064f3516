#!/usr/bin/env bash
# What the console's browser test needs: Debian's headless-capable Chromium
# (/usr/bin/chromium), Node.js with npm, and playwright-core installed from
# tests/console/package-lock.json (`npm ci`; no browser is downloaded, the
# test drives the system's Chromium). Installs what is missing (Debian/Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "No apt-get here: install ${missing[*]} yourself and run again." >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# `npm ci` again whenever the lock file is newer than what was installed from it.
lock=tests/console/package-lock.json
stamp=tests/console/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
  (cd tests/console && npm ci --no-audit --no-fund --loglevel=error)
fi
