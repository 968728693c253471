#!/usr/bin/env bash
# Installs the blink-store binary from a GitHub release, checking its SHA-256 checksum.
#
#   curl -sSLf https://raw.githubusercontent.com/blink-store/blink-store/main/scripts/install.sh | bash
#   curl -sSLf https://raw.githubusercontent.com/blink-store/blink-store/main/scripts/install.sh \
#     | bash -s -- v0.1.0 /usr/local/bin
#
# Arguments: [latest|vX.Y.Z] [DIR]. The version defaults to latest and DIR to
# $HOME/.local/bin (created if needed). Linux gets the static musl build, macOS the
# apple-darwin build, for x86_64 or aarch64. BLINK_STORE_DOWNLOAD_URL replaces the
# releases URL (https://github.com/blink-store/blink-store/releases); the assets are
# fetched from $BLINK_STORE_DOWNLOAD_URL/latest/download/ASSET or
# $BLINK_STORE_DOWNLOAD_URL/download/vX.Y.Z/ASSET.
#
# Everything runs inside main, so a download of this script cut short runs nothing.
set -euo pipefail

# The temporary directory, removed on exit whatever happens.
tmp=""

cleanup() {
  if [ -n "$tmp" ]; then
    rm -rf "$tmp"
  fi
}

usage() {
  cat <<'EOF'
usage: install.sh [latest|vX.Y.Z] [DIR]

Downloads a blink-store release for this machine, checks its SHA-256 checksum and
installs the blink-store binary into DIR (default: $HOME/.local/bin).

environment:
  BLINK_STORE_DOWNLOAD_URL  where releases are downloaded from
                            (default: https://github.com/blink-store/blink-store/releases)
EOF
}

say() {
  printf 'install.sh: %s\n' "$*" >&2
}

die() {
  printf 'install.sh: error: %s\n' "$*" >&2
  exit 1
}

# The release asset for this machine: blink-store-<target>.tar.gz.
asset_name() {
  local os arch target
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "unsupported architecture: $arch (release builds exist for x86_64 and aarch64)" ;;
  esac
  case "$os" in
    Linux) target="$arch-unknown-linux-musl" ;;
    Darwin)
      # A shell running under Rosetta reports x86_64 on Apple silicon.
      if [ "$arch" = x86_64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
        arch=aarch64
      fi
      target="$arch-apple-darwin"
      ;;
    *) die "unsupported operating system: $os (release builds exist for Linux and macOS)" ;;
  esac
  printf 'blink-store-%s.tar.gz\n' "$target"
}

# download URL FILE: fetches URL into FILE with curl, or wget when curl is missing.
download() {
  local url="$1" out="$2"
  if command -v curl >/dev/null 2>&1; then
    curl --proto '=https,http' -sSfL --retry 3 --connect-timeout 30 -o "$out" "$url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --tries=3 --timeout=30 -O "$out" "$url"
  else
    die "neither curl nor wget is installed; install one of them and run this again"
  fi
}

# The SHA-256 of FILE, as lowercase hex.
sha256_of() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then
    sum="$(sha256sum "$1")"
  elif command -v shasum >/dev/null 2>&1; then
    sum="$(shasum -a 256 "$1")"
  else
    die "neither sha256sum nor shasum is installed: cannot check the download"
  fi
  printf '%s\n' "${sum%% *}" | tr 'A-F' 'a-f'
}

main() {
  local version="latest" dir="" base url asset expected actual binary staged

  if [ "$#" -gt 2 ]; then
    usage >&2
    die "too many arguments"
  fi
  if [ "$#" -ge 1 ]; then
    case "$1" in
      -h | --help)
        usage
        exit 0
        ;;
      latest) version=latest ;;
      *)
        if ! printf '%s\n' "$1" | grep -Eq '^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'; then
          die "invalid version '$1': expected latest or a tag like v1.2.3"
        fi
        version="$1"
        ;;
    esac
  fi
  if [ "$#" -ge 2 ]; then
    dir="$2"
    [ -n "$dir" ] || die "the install directory must not be empty"
  else
    [ -n "${HOME:-}" ] || die "HOME is not set: give the install directory as the second argument"
    dir="$HOME/.local/bin"
  fi

  asset="$(asset_name)"
  base="${BLINK_STORE_DOWNLOAD_URL:-https://github.com/blink-store/blink-store/releases}"
  base="${base%/}"
  if [ "$version" = latest ]; then
    url="$base/latest/download/$asset"
  else
    url="$base/download/$version/$asset"
  fi

  trap cleanup EXIT
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/blink-store-install.XXXXXX")"

  say "downloading $url"
  download "$url" "$tmp/$asset" || die "could not download $url (is $version a release with a $asset asset?)"
  download "$url.sha256" "$tmp/$asset.sha256" || die "could not download the checksum $url.sha256"

  expected="$(awk 'NR == 1 { print tolower($1) }' "$tmp/$asset.sha256")"
  if ! printf '%s\n' "$expected" | grep -Eq '^[0-9a-f]{64}$'; then
    die "malformed checksum file $url.sha256; refusing to install"
  fi
  actual="$(sha256_of "$tmp/$asset")"
  if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $asset: expected $expected, got $actual; refusing to install"
  fi
  say "checksum verified: sha256 $actual"

  mkdir "$tmp/unpacked"
  tar -xzf "$tmp/$asset" -C "$tmp/unpacked" || die "could not unpack $asset"
  binary="$tmp/unpacked/blink-store"
  if [ ! -f "$binary" ]; then
    binary="$(find "$tmp/unpacked" -type f -name blink-store | head -n 1)"
    [ -n "$binary" ] || die "$asset holds no blink-store binary"
  fi

  mkdir -p "$dir" || die "could not create $dir"
  # Copy next to the destination, then rename over it: a running blink-store keeps its
  # old file, and nobody sees a half-written one.
  staged="$dir/.blink-store.tmp.$$"
  if ! { cp "$binary" "$staged" && chmod 755 "$staged" && mv -f "$staged" "$dir/blink-store"; }; then
    rm -f "$staged"
    die "could not install into $dir"
  fi

  say "installed $dir/blink-store"
  case ":${PATH:-}:" in
    *":$dir:"*) ;;
    *) say "note: $dir is not on PATH; add it with: export PATH=\"$dir:\$PATH\"" ;;
  esac
  "$dir/blink-store" --version
}

main "$@"
