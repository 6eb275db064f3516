#!/usr/bin/env bash
# The Python tools the API description's tests run: openapi-spec-validator
# (is the description valid OpenAPI 3.1?) and schemathesis (a property-based
# fuzzer driven by it), in a virtual environment under target/ (made once,
# reused after). Installs Debian's python3-venv when venv is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PY_TOOLS_VENV:-target/py-tools}"
STAMP="$VENV/.installed-v1"
# Reused only when it still works (a venv moved with its directory does not).
if [ -f "$STAMP" ] && "$VENV/bin/python" -c 'import schemathesis, openapi_spec_validator' >/dev/null 2>&1; then
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  "openapi-spec-validator==0.9.0" "schemathesis==4.32.5"
touch "$STAMP"
