#!/usr/bin/env bash
# Builds the Dockerfile with podman and runs the image against a real Redis:
# the server becomes ready, the image's health check passes, it runs as a user
# that is not root, and it stops in order on SIGTERM. Installs podman (and runc,
# debootstrap) when missing.
#
# Public image registries may be unreachable, so the two base images the
# Dockerfile names are stood in for by images made here from Debian's packages
# (debootstrap, then `podman import`), passed with --build-arg; the Dockerfile
# itself is built unchanged. Made once per machine, then reused.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'container-check: %s\n' "$*"; }

need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# runc, not crun: crun refuses hosts with cgroups in hybrid mode. The limits
# are set explicitly because a container may not raise them above the host's.
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit "nofile=4096:4096" --ulimit "nproc=4096:4096")
BASE=localhost/callflow-stand-in/debian:bookworm
RUST=localhost/callflow-stand-in/rust:bookworm
TAG=localhost/callflow:check

if ! "${PODMAN[@]}" image exists "$BASE"; then
  log "making the Debian base image (debootstrap bookworm, minbase)"
  root=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  tar -C "$root" -c . | "${PODMAN[@]}" import - "$BASE" >/dev/null 2>&1
  rm -rf "$root"
fi

# Can this machine run a container at all? (Not a check of callflow.)
if ! "${PODMAN[@]}" run --rm "${LIMITS[@]}" "$BASE" true; then
  log "SKIPPED: podman cannot start a container on this machine"
  exit 0
fi

if ! "${PODMAN[@]}" image exists "$RUST"; then
  log "making the Rust build image from this machine's toolchain"
  sysroot=$(rustc --print sysroot)
  ctx=$(mktemp -d)
  # Certificate authorities this machine added to its trust store (e.g. a
  # TLS-inspecting proxy's) are trusted in the build too, so cargo can fetch.
  mkdir -p "$ctx/local-ca"
  cp /usr/local/share/ca-certificates/*.crt "$ctx/local-ca/" 2>/dev/null || true
  cat >"$ctx/Containerfile" <<CONTAINERFILE
FROM $BASE
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev ca-certificates binutils >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY local-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
RUN cp -a /toolchain /usr/local/rust && rm -rf /usr/local/rust/share/doc
ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:\$PATH CARGO_HOME=/usr/local/cargo
CONTAINERFILE
  "${PODMAN[@]}" build -q "${LIMITS[@]}" -v "$sysroot:/toolchain:ro" -t "$RUST" "$ctx" >/dev/null
  rm -rf "$ctx"
fi

log "building the Dockerfile"
start=$(date +%s)
"${PODMAN[@]}" build -q --format docker "${LIMITS[@]}" \
  --build-arg RUST_IMAGE="$RUST" --build-arg RUNTIME_IMAGE="$BASE" \
  -t "$TAG" . >/dev/null
log "built in $(($(date +%s) - start)) s; image size: $("${PODMAN[@]}" image inspect "$TAG" --format '{{.Size}}') bytes"

# A real Redis on the host, on a free port; the container shares the host's network.
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
app_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis_dir=$(mktemp -d)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" --save '' --appendonly yes --daemonize yes \
  --pidfile "$redis_dir/redis.pid" >/dev/null
name="callflow-check-$$"
cleanup() {
  "${PODMAN[@]}" rm -f "$name" >/dev/null 2>&1 || true
  kill "$(cat "$redis_dir/redis.pid" 2>/dev/null)" 2>/dev/null || true
  rm -rf "$redis_dir"
}
trap cleanup EXIT

"${PODMAN[@]}" run -d "${LIMITS[@]}" --name "$name" --network host \
  -e PORT="$app_port" -e REDIS_URL="redis://127.0.0.1:$redis_port" \
  -e PUBLIC_BASE_URL="https://callflow.example.com" \
  -e TWILIO_ACCOUNT_SID="AC00000000000000000000000000000000" \
  -e TWILIO_AUTH_TOKEN="container-check-auth-token-0000" \
  -e TWILIO_VOICE_NUMBER="+15550001000" \
  -e API_TOKEN="container-check-api-token-0123456789" \
  -e COMPANY_NAME="Acme" -e CALL_PURPOSE="about your appointment" \
  "$TAG" >/dev/null

ready=""
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$app_port/ready" >/dev/null 2>&1; then ready=yes; break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  "${PODMAN[@]}" logs "$name" | tail -20
  log "FAIL: the server in the image did not become ready"; exit 1
fi
log "ready on port $app_port"

uid=$("${PODMAN[@]}" exec "$name" id -u)
[ "$uid" != 0 ] || { log "FAIL: the server runs as root"; exit 1; }
log "runs as uid $uid"

"${PODMAN[@]}" exec "$name" callflow healthcheck || { log "FAIL: the image's health check failed"; exit 1; }
log "health check passes"

status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$app_port/api/stats" \
  -H "Authorization: Bearer container-check-api-token-0123456789")
[ "$status" = 200 ] || { log "FAIL: /api/stats answered $status"; exit 1; }
# HTTPS to Twilio needs the CA certificates in the image.
"${PODMAN[@]}" exec "$name" test -s /etc/ssl/certs/ca-certificates.crt \
  || { log "FAIL: no CA certificates in the image"; exit 1; }

"${PODMAN[@]}" stop -t 20 "$name" >/dev/null
code=$("${PODMAN[@]}" inspect "$name" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || { log "FAIL: exit status $code after SIGTERM"; exit 1; }
log "stopped in order on SIGTERM (exit 0)"
log "ok"
