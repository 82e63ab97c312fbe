#!/usr/bin/env bash
# Installs the Debian packages the side-by-side benchmark (scripts/bench/torch_bench.py) needs, if
# missing: PyTorch and NumPy for Debian's own interpreter (/usr/bin/python3), OpenBLAS, and GNU time
# (/usr/bin/time -v, for the peak RSS of make bench-scale).
# Debian's python3-torch links the generic libblas.so.3 / liblapack.so.3, which without an optimized
# provider are the netlib reference libraries (single-threaded, unblocked): torch.linalg.qr of MNIST is
# then about 20x slower than with OpenBLAS, which no PyTorch user would see. libopenblas0-pthread takes
# over both alternatives (higher priority); an already installed OpenBLAS, BLIS or MKL is kept.
# Used by `make bench` and `make bench-scale` only (never by `make test`).
set -euo pipefail
pkgs=(python3-torch python3-numpy time)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
optimized=0
for p in libopenblas0-pthread libopenblas0-openmp libopenblas0-serial libblis4-pthread libblis4-openmp libblis4-serial libmkl-rt; do
  dpkg -s "$p" >/dev/null 2>&1 && optimized=1 && break
done
[ $optimized -eq 1 ] || missing+=(libopenblas0-pthread)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-bench-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
