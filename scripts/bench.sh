#!/usr/bin/env bash
# Native benchmark with the onnxruntime reference in the same run.
#
#   scripts/bench.sh                       # built-in test model
#   scripts/bench.sh --encoder E.onnx --decoder D.onnx [--image P] [--runs N]
#
# Makes a venv (target/bench-venv) with the pinned onnxruntime of
# bench/requirements.txt once, builds twinseg in release mode and runs
# `twinseg bench --python <venv python>` with the given arguments. Without
# --image it times the photo-like 1024x768 picture of bench/photo_like.py,
# the browser benchmark's default (bench/web/bench.mjs), so that the two
# benchmarks' figures compare the same work.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
python=${PYTHON:-python3}
if ! "$venv/bin/python" -c "import onnxruntime" 2>/dev/null; then
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -r bench/requirements.txt
fi
image=()
if [[ " $* " != *" --image "* && " $* " != *" --image="* ]]; then
    photo=target/bench-photo-1024.png
    [ -f "$photo" ] || "$python" bench/photo_like.py "$photo" --width 1024 --height 768
    image=(--image "$photo")
fi
cargo build --release --quiet --bin twinseg
exec target/release/twinseg bench --python "$venv/bin/python" "${image[@]}" "$@"
