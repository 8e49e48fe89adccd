#!/usr/bin/env bash
# Installs everything the app and the test suite need, idempotently and only
# from package registries (crates.io, npm, Debian): the wasm32 target, the
# pinned nightly with rust-src for the threaded worker, trunk and
# wasm-bindgen-cli (pinned), Debian's Chromium and Firefox ESR, and the npm packages of
# package-lock.json. Safe to run again: each step checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# The threaded worker (scripts/build-threads.sh) rebuilds std with wasm
# atomics, which needs nightly and its std sources.
ensure_nightly() {
  local toolchain
  toolchain=$(cat scripts/nightly-toolchain)
  if ! rustup component list --toolchain "$toolchain" --installed 2>/dev/null | grep -q '^rust-src'; then
    log "installing $toolchain with rust-src"
    rustup toolchain install "$toolchain" --profile minimal --component rust-src
  fi
}

# The wasm-bindgen CLI must match the library version that Cargo.lock pins.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    log "installing trunk $TRUNK_VERSION"
    cargo install --locked trunk --version "$TRUNK_VERSION"
  fi
}

ensure_wasm_bindgen() {
  local want
  want=$(wasm_bindgen_version)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    log "installing wasm-bindgen-cli $want"
    # --locked fails on a yanked transitive crate of this version; the version itself is pinned.
    cargo install wasm-bindgen-cli --version "=$want"
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    as_root apt-get install -y chromium || { as_root apt-get update && as_root apt-get install -y chromium; }
  fi
}

# Firefox for the browser test that proves the page works in Gecko too.
ensure_firefox() {
  if [ ! -x /usr/bin/firefox-esr ]; then
    log "installing Debian's firefox-esr"
    as_root apt-get install -y firefox-esr || { as_root apt-get update && as_root apt-get install -y firefox-esr; }
  fi
}

ensure_npm_packages() {
  if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.setup-stamp; then
    log "installing npm packages from package-lock.json"
    npm ci --no-audit --no-fund
    cp package-lock.json node_modules/.setup-stamp
  fi
}

main() {
  ensure_wasm_target
  ensure_nightly
  cargo fetch --locked
  ensure_trunk
  ensure_wasm_bindgen
  ensure_chromium
  ensure_firefox
  ensure_npm_packages
}

main "$@"
