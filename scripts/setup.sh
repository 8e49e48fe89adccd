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

# Build tools are installed without link-time optimisation and in parallel
# codegen units, at the optimisation level given first: their own release
# profiles (trunk's is fat LTO in one codegen unit) made a cold set-up take
# half an hour on two cores, and neither tool does enough work for its own
# speed to matter, beyond what the callers optimise.
quick_install() {
  local opt_level=$1
  shift
  CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt_level" \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install "$@"
}

# trunk unoptimised compiles in 5 minutes instead of 8 here; its one busy
# loop, hashing the built files (some 70 MB of wasm), stays optimised, so a
# build that changes nothing takes as long as with an optimised trunk.
ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    log "installing trunk $TRUNK_VERSION"
    quick_install 0 \
      --config 'profile.release.package.sha2.opt-level=3' \
      --config 'profile.release.package.seahash.opt-level=3' \
      --locked trunk --version "$TRUNK_VERSION"
  fi
}

ensure_wasm_bindgen() {
  local want
  want=$(wasm_bindgen_version)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    log "installing wasm-bindgen-cli $want"
    # --locked fails on a yanked transitive crate of this version; the version itself is pinned.
    # Optimised: it rewrites each worker's 20 MB module.
    quick_install 1 wasm-bindgen-cli --version "=$want"
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

# The downloads (nightly, the browsers, the npm packages) go on in the
# background while the two tools compile, which is what takes the time.
main() {
  ensure_wasm_target
  cargo fetch --locked
  (ensure_nightly; ensure_chromium; ensure_firefox; ensure_npm_packages) &
  local downloads=$!
  ensure_trunk
  ensure_wasm_bindgen
  wait "$downloads"
}

main "$@"
