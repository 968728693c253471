#!/usr/bin/env bash
# Builds a statically linked blink-store for a Rust target triple and copies it to OUT
# (default: dist/). The Dockerfile's builder stage runs exactly this, and so does the
# test command, so the image's build is checked on every run.
#
#   scripts/build-static.sh x86_64-unknown-linux-gnu [OUT]
#   scripts/build-static.sh aarch64-unknown-linux-gnu [OUT]   # needs gcc-aarch64-linux-gnu
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:?usage: scripts/build-static.sh TARGET [OUT]}"
out="${2:-dist}"

case "$target" in
  x86_64-unknown-linux-gnu | x86_64-unknown-linux-musl | aarch64-unknown-linux-musl) ;;
  aarch64-unknown-linux-gnu)
    # Cross-compiling from another architecture: link with the cross gcc.
    if [ "$(uname -m)" != aarch64 ]; then
      export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
    fi
    ;;
  *)
    echo "build-static.sh: unsupported target $target" >&2
    exit 2
    ;;
esac

# crt-static links the C runtime in; symbols are stripped to keep the image small, so
# the line tables the release profile keeps for profiling are not built either.
RUSTFLAGS="-C target-feature=+crt-static -C strip=symbols" CARGO_PROFILE_RELEASE_DEBUG=false \
  cargo build --release --locked --target "$target" --bin blink-store
mkdir -p "$out"
cp "${CARGO_TARGET_DIR:-target}/$target/release/blink-store" "$out/blink-store"
echo "built $out/blink-store for $target"
