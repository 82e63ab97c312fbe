#!/usr/bin/env bash
# Executes every notebook headless on a preset (default tiny; LEVSTUDY_PRESET=quick for the real thing),
# fails on any error output, panic or exit status in them, and exports HTML to out/html/.
# Usage: scripts/notebooks/run.sh [NOTEBOOK.ipynb ...]   (make notebooks)
set -euo pipefail
cd "$(dirname "$0")/../.."
export LEVSTUDY_PRESET=${LEVSTUDY_PRESET:-tiny}
export PATH="$PATH:$(go env GOPATH)/bin"
out=out/notebooks html=out/html
mkdir -p "$out" "$html"
nbs=("$@")
[ ${#nbs[@]} -gt 0 ] || nbs=(notebooks/*.ipynb)
for nb in "${nbs[@]}"; do
  name=$(basename "$nb" .ipynb)
  start=$(date +%s)
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=3600 --ExecutePreprocessor.kernel_name=gonb \
    --output-dir "$out" --output "$name" "$nb" 2> "$out/$name.log" || { tail -30 "$out/$name.log" >&2; exit 1; }
  echo "executed $nb in $(( $(date +%s) - start ))s (preset $LEVSTUDY_PRESET)"
done
python3 scripts/notebooks/check.py "$out"/*.ipynb
jupyter nbconvert --to html --output-dir "$html" "$out"/*.ipynb 2>/dev/null
ls "$html"/*.html
# Look at each export as a user would: headless Chromium screenshots, checked non-blank.
for h in "$html"/*.html; do
  scripts/screenshot.sh "$h" "${h%.html}.png" 1280,3000
done
go run ./scripts/pngcheck "$html"/*.png
