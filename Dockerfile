# callflow: a multi-stage build. The first stage compiles the production
# binary (no demo, no benchmark, no simulator); the second is a small Debian
# image with CA certificates (for Twilio's HTTPS API), running as a user that
# is not root.
#
#   docker build -t callflow .
#   docker run --rm -p 3000:3000 --env-file .env -e REDIS_URL=redis://redis:6379 callflow
#
# The base images can be swapped (e.g. for a registry mirror) with
# --build-arg RUST_IMAGE=... / RUNTIME_IMAGE=...
ARG RUST_IMAGE=docker.io/library/rust:1-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
# The dependency downloads and the build directory are kept between builds
# on the same machine.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --no-default-features --bin callflow \
 && cp target/release/callflow /usr/local/bin/callflow \
 && strip /usr/local/bin/callflow

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin callflow
WORKDIR /app
COPY --from=build /usr/local/bin/callflow /usr/local/bin/callflow
COPY flows /app/flows
ENV BIND=0.0.0.0 \
    PORT=3000 \
    FLOWS_DIR=/app/flows \
    RUST_LOG=info \
    LOG_FORMAT=json
USER 10001:10001
EXPOSE 3000
# /ready answers 200 once Redis is reachable; the image needs no curl for it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/callflow", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/callflow"]
CMD ["serve"]
