#!/usr/bin/env bash
# Renders an HTML file in headless Chromium and writes a PNG screenshot: scripts/screenshot.sh IN.html OUT.png [WIDTHxHEIGHT]
# Used by the tests and `make html` to look at reports and exported notebooks as a user would.
set -euo pipefail
in=$1 out=$2 size=${3:-1280,3000}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "screenshot.sh: chromium not installed (make deps installs it)" >&2
  exit 3
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --disable-quic --user-data-dir="$profile" --window-size="$size" \
  --screenshot="$out" "file://$(realpath "$in")" >/dev/null 2>&1
test -s "$out"
