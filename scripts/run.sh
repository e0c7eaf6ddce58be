#!/usr/bin/env bash
# Open the desktop app where there is a display; serve the API headless elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && .venv/bin/facelink gui --help >/dev/null 2>&1; then
  exec .venv/bin/facelink gui "$@"
fi
exec .venv/bin/facelink serve "$@"
