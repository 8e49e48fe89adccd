#!/usr/bin/env bash
# Native benchmark with the onnxruntime reference in the same run.
#
#   scripts/bench.sh                       # built-in test model
#   scripts/bench.sh --encoder E.onnx --decoder D.onnx [--image P] [--runs N]
#
# Makes a venv (target/bench-venv) with the pinned onnxruntime of
# bench/requirements.txt once, builds twinseg in release mode and runs
# `twinseg bench --python <venv python>` with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
python=${PYTHON:-python3}
if ! "$venv/bin/python" -c "import onnxruntime" 2>/dev/null; then
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -r bench/requirements.txt
fi
cargo build --release --quiet --bin twinseg
exec target/release/twinseg bench --python "$venv/bin/python" "$@"
