#!/usr/bin/env bash
# Installs the Debian packages the tests and notebooks need, if missing: Chromium (screenshots of
# reports and notebooks), Jupyter's nbconvert/nbclient (headless notebook execution and HTML export) and
# the classic Jupyter Notebook server (the browser test, scripts/notebooks/browser.sh).
# Used by `make deps` (so by `make test` and `make notebooks`) and by the Docker images.
set -euo pipefail
pkgs=(chromium jupyter-nbconvert python3-nbconvert python3-nbclient jupyter-client python3-ipykernel jupyter-notebook)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
