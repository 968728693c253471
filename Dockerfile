# blink-store: a static binary in an empty image, for linux/amd64 and linux/arm64.
#
#   docker build -t blink-store .
#   docker buildx build --platform linux/amd64,linux/arm64 -t blink-store .
#   docker run --rm -p 8765:8765 -e BLINK_MEMORY_LIMIT=256MiB blink-store
#
# Warm restarts: keep the snapshot file on a named volume at /data. The image's /data
# belongs to the server's user (65532), and Docker gives a new named volume the
# ownership of the directory it is mounted over, so the server can write there:
#   docker run --rm -p 8765:8765 -v blink-data:/data \
#     -e BLINK_SNAPSHOT=/data/blink.snapshot --stop-timeout 30 blink-store

# The builder runs on the build machine's platform and cross-compiles for TARGETARCH.
FROM --platform=$BUILDPLATFORM rust:1-bookworm AS builder
ARG TARGETARCH
WORKDIR /src
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
    && rm -rf /var/lib/apt/lists/*
COPY . .
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN case "$TARGETARCH" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH: $TARGETARCH" >&2; exit 1 ;; \
    esac \
    && rustup target add "$target" \
    && scripts/build-static.sh "$target" /out \
    && mkdir /out/data

# The runtime stage: nothing but the binary, run as an unprivileged user.
FROM scratch AS runtime
COPY --from=builder /out/blink-store /blink-store
# Where a snapshot file (BLINK_SNAPSHOT) can live: a volume mounted here starts out
# writable by the server's user.
COPY --from=builder --chown=65532:65532 /out/data /data
ENV BLINK_TCP=0.0.0.0:8765 \
    BLINK_MEMORY_LIMIT=64MiB \
    BLINK_MAX_CONNECTIONS=1024 \
    BLINK_LOG=info \
    BLINK_LOG_FORMAT=text
USER 65532:65532
EXPOSE 8765
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 \
    CMD ["/blink-store", "healthcheck", "--timeout", "2s"]
ENTRYPOINT ["/blink-store"]
CMD ["serve"]
