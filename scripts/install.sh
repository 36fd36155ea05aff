#!/usr/bin/env bash
# Installs ecsgate for this OS and CPU: from a release asset (SHA-256 verified, cached), or, when the
# release has no asset for this platform, built from source with `cargo install --locked`.
# Used by the GitHub Action (action.yml) and the CircleCI orb (orb/src/scripts/install.sh links here).
#
# Environment:
#   ECSGATE_VERSION      release tag, e.g. v0.1.0 (required)
#   ECSGATE_INSTALL_DIR  where the binary goes (default: $HOME/.local/bin)
#   ECSGATE_CACHE_DIR    a cache kept between runs (optional; e.g. the runner's tool cache)
#   ECSGATE_BASE_URL     release download base (default: https://github.com/ecsgate/ecsgate/releases/download)
#   ECSGATE_SOURCE_DIR   source checkout for the fallback build (default: this script's repository)
#   ECSGATE_SOURCE_GIT   git URL for the fallback build when there is no source checkout (the orb)
#   ECSGATE_CARGO        cargo command for the fallback build (default: cargo)
# Prints the installed binary's path as its last line.
set -euo pipefail

die() { echo "ecsgate install: $*" >&2; exit 1; }

version="${ECSGATE_VERSION:?ECSGATE_VERSION is required (a release tag such as v0.1.0)}"
install_dir="${ECSGATE_INSTALL_DIR:-$HOME/.local/bin}"
base_url="${ECSGATE_BASE_URL:-https://github.com/ecsgate/ecsgate/releases/download}"
source_dir="${ECSGATE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cargo="${ECSGATE_CARGO:-cargo}"

os=$(uname -s)
arch=$(uname -m)
case "$os/$arch" in
  Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
  Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
  Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
  *) target="" ;;
esac

mkdir -p "$install_dir"
dest="$install_dir/ecsgate"
# On CircleCI later steps see PATH changes only through $BASH_ENV.
if [ -n "${CIRCLECI:-}" ] && [ -n "${BASH_ENV:-}" ]; then
  echo "export PATH=\"$install_dir:\$PATH\"" >> "$BASH_ENV"
fi

# 1. The cache.
if [ -n "${ECSGATE_CACHE_DIR:-}" ] && [ -n "$target" ] && [ -x "$ECSGATE_CACHE_DIR/$version/$target/ecsgate" ]; then
  cp "$ECSGATE_CACHE_DIR/$version/$target/ecsgate" "$dest"
  echo "ecsgate $version: from cache" >&2
  echo "$dest"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 2. The release asset, verified.
if [ -n "$target" ]; then
  asset="ecsgate-$version-$target.tar.gz"
  url="$base_url/$version/$asset"
  if curl -fsSL --retry 3 -o "$work/$asset" "$url" 2>/dev/null; then
    curl -fsSL --retry 3 -o "$work/$asset.sha256" "$url.sha256" 2>/dev/null \
      || die "no checksum file $asset.sha256 next to $url: refusing an unverified binary"
    expected=$(awk '{print $1; exit}' "$work/$asset.sha256")
    if command -v sha256sum >/dev/null 2>&1; then
      actual=$(sha256sum "$work/$asset" | awk '{print $1}')
    else
      actual=$(shasum -a 256 "$work/$asset" | awk '{print $1}')
    fi
    [ -n "$expected" ] && [ "$expected" = "$actual" ] \
      || die "checksum mismatch for $asset: expected ${expected:-nothing}, got $actual; refusing to install"
    tar -xzf "$work/$asset" -C "$work"
    [ -f "$work/ecsgate" ] || die "$asset does not contain an ecsgate binary"
    install -m 0755 "$work/ecsgate" "$dest"
    if [ -n "${ECSGATE_CACHE_DIR:-}" ]; then
      mkdir -p "$ECSGATE_CACHE_DIR/$version/$target"
      cp "$dest" "$ECSGATE_CACHE_DIR/$version/$target/ecsgate"
    fi
    echo "ecsgate $version: installed $target release asset (sha256 $actual)" >&2
    echo "$dest"
    exit 0
  fi
  echo "ecsgate $version: no release asset $asset; building from source" >&2
else
  echo "ecsgate $version: no release build for $os/$arch; building from source" >&2
fi

# 3. From source.
command -v "$cargo" >/dev/null 2>&1 || die "no release asset for $os/$arch and no cargo to build from source (install Rust: https://rustup.rs)"
if [ -f "$source_dir/Cargo.toml" ]; then
  "$cargo" install --locked --path "$source_dir" --root "$work/root" >&2
elif [ -n "${ECSGATE_SOURCE_GIT:-}" ]; then
  "$cargo" install --locked --git "$ECSGATE_SOURCE_GIT" --tag "$version" --root "$work/root" ecsgate >&2
else
  die "no release asset and no source at $source_dir to build from"
fi
install -m 0755 "$work/root/bin/ecsgate" "$dest"
echo "$dest"
