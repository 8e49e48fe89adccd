#!/usr/bin/env bash
# The long fuzzing campaign (not part of the test suite): every cargo-fuzz
# target in fuzz/ for RUNS inputs each (default 1,000,000), starting from the
# seeds in fuzz/seeds/. Needs the nightly toolchain; installs cargo-fuzz if it
# is missing. Crashes land in fuzz/artifacts/<target>/; turn each into a case
# in tests/hostile_inputs.rs.
#
#   scripts/fuzz.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-1000000}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(image_decode coco_rle llm_answer twin_json reasonseg_json model_load)
fi

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cargo +nightly fuzz build -O
for target in "${targets[@]}"; do
  corpus="target/fuzz-corpus/$target"
  mkdir -p "$corpus"
  cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== $target: $runs inputs" >&2
  cargo +nightly fuzz run -O "$target" "$corpus" -- \
    -runs="$runs" -max_len=65536 -rss_limit_mb=4096 -timeout=20 -print_final_stats=1
done
