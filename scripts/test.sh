#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, formatting, lints on the host
# and on wasm32, the library's unit and end-to-end tests, the app build, and
# the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "set-up"
scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (host)"
cargo clippy --locked -p twinseg --all-targets -- -D warnings

step "clippy (wasm32)"
cargo clippy --locked --target wasm32-unknown-unknown -p twinseg --no-default-features --features inference -- -D warnings
cargo clippy --locked --target wasm32-unknown-unknown -p twinseg-app -p twinseg-worker -- -D warnings

step "library and pipeline tests"
cargo test --locked -p twinseg

step "page unit tests (parameters, build choice, overlay; on the host)"
cargo test --locked -p twinseg-app

step "app build (trunk, release)"
trunk build --release --offline

step "browser tests (headless Chromium)"
node --test --test-reporter=spec tests/browser/*.test.mjs

step "all tests passed"
