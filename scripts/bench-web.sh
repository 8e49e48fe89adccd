#!/usr/bin/env bash
# The browser benchmark, against onnxruntime-web in the same browser.
#
#   scripts/bench-web.sh                          # built-in test model
#   scripts/bench-web.sh --encoder E.onnx --decoder D.onnx [--image P.png] [--runs N] [--no-big] [--no-find]
#
# Installs what the app needs (scripts/setup.sh) and the pinned
# onnxruntime-web of bench/web/package-lock.json, builds the app in release
# mode and drives the real page in headless Chromium (bench/web/bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! cmp -s bench/web/package-lock.json bench/web/node_modules/.setup-stamp 2>/dev/null; then
    (cd bench/web && npm ci --no-audit --no-fund --ignore-scripts)
    cp bench/web/package-lock.json bench/web/node_modules/.setup-stamp
fi
trunk build --release --offline
exec node bench/web/bench.mjs "$@"
