#!/usr/bin/env bash
# Checks that the notebook check catches what nbconvert lets through: a notebook whose Go cell panics
# is executed (nbconvert exits 0) and check.py must reject it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:$(go env GOPATH)/bin"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/panic.ipynb" <<'PY'
import json, sys
cells = [{"cell_type": "code", "execution_count": None, "id": "p1", "metadata": {}, "outputs": [],
          "source": "%%\npanic(\"deliberate\")"}]
json.dump({"cells": cells, "metadata": {"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"}},
           "nbformat": 4, "nbformat_minor": 5}, open(sys.argv[1], "w"))
PY
jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=gonb --output-dir "$dir" --output ran "$dir/panic.ipynb" 2>/dev/null \
  || { echo "selftest: nbconvert itself failed on a panicking cell (unexpected but safe)"; exit 0; }
if python3 scripts/notebooks/check.py "$dir/ran.ipynb" 2>/dev/null; then
  echo "selftest: check.py accepted a notebook whose cell panicked" >&2
  exit 1
fi
echo "selftest: a panicking notebook is rejected (nbconvert alone exits 0)"
