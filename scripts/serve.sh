#!/usr/bin/env bash
# Serves the app on the embedded defaults (built-in test model, embedded
# reasoner) at http://127.0.0.1:${PORT:-8080}/, rebuilding on changes.
# Installs what it needs first (scripts/setup.sh is idempotent), then runs
# trunk offline so nothing is downloaded. Trunk.toml sets the address and the
# cross-origin isolation headers.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}

if [ "${SKIP_SETUP:-0}" != 1 ]; then
  scripts/setup.sh
fi

# trunk refuses to watch when a path in Trunk.toml's [watch] ignore list is missing.
mkdir -p node_modules target dist test-output .tools logs fuzz bench

printf '\ntwinseg: serving on http://127.0.0.1:%s/ (Ctrl+C to stop)\n\n' "$PORT" >&2
exec trunk serve --release --offline --address 127.0.0.1 --port "$PORT" "$@"
