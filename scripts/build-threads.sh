#!/usr/bin/env bash
# Builds the threaded worker: crates/worker again, with wasm atomics so its
# memory can be shared with the model threads it starts (src/threads.rs).
# Shared memory needs std rebuilt with atomics, which only nightly can do, so
# this uses the nightly of scripts/nightly-toolchain (scripts/setup.sh installs
# it). trunk runs this after each build (Trunk.toml [[hooks]]) and it writes
# worker-threads.js and worker-threads_bg.wasm into trunk's staging folder,
# beside the single-threaded worker that every other page gets.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${TRUNK_STAGING_DIR:?"run by trunk (Trunk.toml [[hooks]]), which sets TRUNK_STAGING_DIR"}
toolchain=$(cat scripts/nightly-toolchain)
profile_flag=()
profile_dir=debug
if [ "${TRUNK_PROFILE:-release}" = release ]; then
  profile_flag=(--release)
  profile_dir=release
fi

# RUSTFLAGS replaces .cargo/config.toml's flags for wasm32, so simd128 is repeated.
# The memory is imported and shared, so the model threads can be given it;
# it must declare a maximum: 4 GiB, wasm32's whole address space. The TLS
# symbols let wasm-bindgen give each thread its own thread-locals.
link_args=(--shared-memory --import-memory --max-memory=4294967296
  --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base)
rustflags="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128"
for arg in "${link_args[@]}"; do rustflags+=" -C link-arg=$arg"; done

RUSTFLAGS="$rustflags" \
  cargo "+$toolchain" build --locked "${profile_flag[@]}" \
  --target wasm32-unknown-unknown -p twinseg-worker \
  -Z build-std=std,panic_abort --target-dir target/threads

# Without the name section (function names for stack traces and profiles):
# demangled from nightly's symbols, it was as large as the code itself, 20 of
# the module's 41 MB.
wasm-bindgen --target no-modules --no-typescript --remove-name-section \
  --out-dir "$out" --out-name worker-threads \
  "target/threads/wasm32-unknown-unknown/$profile_dir/worker.wasm"
