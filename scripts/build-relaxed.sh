#!/usr/bin/env bash
# Builds the relaxed-SIMD worker: crates/worker again, with its `relaxed-simd`
# feature, so the page's own matrix kernel (src/model/wasm_matmul.rs) uses
# wasm's fused multiply-add. A module with relaxed SIMD does not load at all in
# a browser without it (Firefox ESR 140, for one), so this is a second
# single-threaded build beside the plain one, and the page picks it only where
# the browser validates relaxed SIMD (crates/app/src/worker.rs). trunk runs
# this after each build (Trunk.toml [[hooks]]) and it writes worker-relaxed.js
# and worker-relaxed_bg.wasm into trunk's staging folder.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${TRUNK_STAGING_DIR:?"run by trunk (Trunk.toml [[hooks]]), which sets TRUNK_STAGING_DIR"}
profile_flag=()
profile_dir=debug
if [ "${TRUNK_PROFILE:-release}" = release ]; then
  profile_flag=(--release)
  profile_dir=release
fi

# The same target folder, flags and profile as trunk's plain build, so cargo
# reuses that build's tract (the longest part of either build) and compiles
# only twinseg and the worker again. The two builds' worker.wasm share a path:
# trunk has already taken the plain one when this runs, and cargo links it
# back into place the next time trunk builds.
cargo build --locked "${profile_flag[@]}" \
  --target wasm32-unknown-unknown -p twinseg-worker --features relaxed-simd

# Without the name section (function names for stack traces and profiles),
# 3 of the module's 25 MB. trunk builds the plain worker and has no option to
# drop it there, so that build keeps the names.
wasm-bindgen --target no-modules --no-typescript --remove-name-section \
  --out-dir "$out" --out-name worker-relaxed \
  "target/wasm32-unknown-unknown/$profile_dir/worker.wasm"
