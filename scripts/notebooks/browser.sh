#!/usr/bin/env bash
# End-to-end test of the interactive notebook flow in a real browser, as a user does it: a classic Jupyter
# Notebook server (Debian's jupyter-notebook, 6.x) with the GoNB kernel on the tiny preset, driven by
# headless Chromium (playwright-core, scripts/notebooks/browser/flow.mjs): Run All, change the k default
# in the cell tagged "parameters" and re-run it, re-run only the cell tagged "digit-grid", check its
# output changed and nothing else did, export HTML. Screenshots, the export, timings.json and the server's
# log go to out/browser/ ($BROWSER_OUT).
#
# Usage: scripts/notebooks/browser.sh [NOTEBOOK.ipynb]   (make browser-test; default notebooks/leverage_study.ipynb)
# Environment: LEVSTUDY_PRESET (default tiny), BROWSER_OUT (default out/browser), CHROMIUM (default
# /usr/bin/chromium), BROWSER_RUN_TIMEOUT (seconds for Run All, default 1800).
# The fixture scripts/notebooks/browser/testdata/fixture.ipynb satisfies the same contract with trivial cells.
#
# The notebook is copied to notebooks/.browser-PID.ipynb (removed afterwards), whatever its folder: GoNB's
# ${GONB_DIR} is the notebook's folder, and the first cell's `-replace …=${GONB_DIR}/..` must reach the
# repository root. The name is hidden (so `notebooks/*.ipynb` globs skip it); the server gets
# --ContentsManager.allow_hidden=True to serve it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
src=${1:-notebooks/leverage_study.ipynb}
[ -f "$src" ] || { echo "browser.sh: no notebook $src" >&2; exit 2; }
out=${BROWSER_OUT:-out/browser}
dir=scripts/notebooks/browser
rm -rf "$out" && mkdir -p "$out"
[ -d "$dir/node_modules/playwright-core" ] || npm ci --prefix "$dir" --no-audit --no-fund
export LEVSTUDY_PRESET=${LEVSTUDY_PRESET:-tiny}
export PATH="$PATH:$(go env GOPATH)/bin"
command -v gonb >/dev/null || { echo "browser.sh: no gonb on PATH; run make gonb" >&2; exit 2; }
jupyter notebook --version >/dev/null 2>&1 || { echo "browser.sh: no jupyter notebook; run make deps" >&2; exit 2; }

copy=notebooks/.browser-$$.ipynb
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
server=""
cleanup() {
  local rc=$?
  if [ -n "$server" ]; then
    # SIGTERM: the server shuts its kernels down and exits; the session (setsid) catches anything left.
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -f "$copy" "notebooks/.ipynb_checkpoints/.browser-$$-checkpoint.ipynb"
  rmdir notebooks/.ipynb_checkpoints 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$src" "$copy"
start=$(date +%s%N)
# Its own session (setsid: the server's pid is the group's id), so cleanup can end its kernels too.
setsid jupyter notebook --no-browser --ip=127.0.0.1 --port="$port" --NotebookApp.port_retries=0 --allow-root \
  --NotebookApp.token="$token" --NotebookApp.notebook_dir="$root" --ContentsManager.allow_hidden=True \
  > "$out/jupyter.log" 2>&1 &
server=$!
for i in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/api/status?token=$token" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { tail -20 "$out/jupyter.log" >&2; echo "browser test FAILED in step \"start the Jupyter server\": it exited" >&2; exit 1; }
  [ "$i" -lt 300 ] || { tail -20 "$out/jupyter.log" >&2; echo "browser test FAILED in step \"start the Jupyter server\": no answer on port $port in 60 s" >&2; exit 1; }
  sleep 0.2
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "Jupyter Notebook $(jupyter notebook --version) answered on port $port in $((ms / 1000)).$((ms % 1000 / 100)) s" \
  "(LEVSTUDY_PRESET=$LEVSTUDY_PRESET); notebook $src as $copy"

node "$dir/flow.mjs" --base "http://127.0.0.1:$port" --token "$token" --notebook "$copy" \
  --source "$src" --out "$out" --run-timeout "${BROWSER_RUN_TIMEOUT:-1800}"
