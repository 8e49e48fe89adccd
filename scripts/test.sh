#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, formatting, lints, the
# library's unit and end-to-end tests, the page's unit tests, the app build,
# and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step() { printf '\n== %s (at %d s)\n' "$*" "$((SECONDS - started))" >&2; }

step "set-up"
scripts/setup.sh

# The app's release build (trunk: the page, the worker and the threaded
# worker) is the longest step. Its build directories (target/release,
# target/wasm32-unknown-unknown/release, target/threads) are not the ones the
# lints and host tests use, so it runs beside them, filling the cores that a
# single cargo build leaves idle; the browser tests wait for it.
web_log=target/app-build.log
mkdir -p target
step "app build (trunk, release), in the background, into $web_log"
setsid trunk build --release --offline </dev/null >"$web_log" 2>&1 &
web_build=$!
stop_web_build() { kill -- "-$web_build" 2>/dev/null || true; }
trap stop_web_build EXIT

step "cargo fmt --check"
cargo fmt --all --check

# The page and the worker compile on the host too, so one host run lints all
# three crates. A wasm32 run would check tract again for a second target, some
# ten minutes on two cores, to lint the two lines that only wasm32 compiles
# (reading the linear memory's size); the app build compiles them, warnings
# and all.
step "clippy (the library, the page and the worker)"
cargo clippy --locked --all-targets -p twinseg -p twinseg-app -p twinseg-worker -- -D warnings

step "library and pipeline tests"
cargo test --locked -p twinseg

step "page unit tests (parameters, build choice, overlay; on the host)"
cargo test --locked -p twinseg-app

step "app build (trunk, release): waiting for it"
if ! wait "$web_build"; then
  cat "$web_log" >&2
  printf 'the app build failed; its whole output is above and in %s\n' "$web_log" >&2
  exit 1
fi
trap - EXIT
tail -n 25 "$web_log" >&2

step "browser tests (headless Chromium)"
node --test --test-reporter=spec tests/browser/*.test.mjs

step "all tests passed"
