#!/usr/bin/env bash
# Scale benchmark (make bench-scale; not part of make test or make bench): leverage of a synthetic
# N×D float32 .npy matrix (default 2,000,000 × 256, 2 GB; scripts/genmatrix: quantized Gaussian
# columns, 6 exactly dependent ones, rank D−6, one row with ℓ = 1) with
#   levstudy leverage -basis npy:X.npy -out X.lev.npy        (streamed from disk in row chunks)
# against NumPy's float64 eigh-of-Gram leverage with X in memory (scripts/bench/numpy_leverage.py),
# each under /usr/bin/time -v for wall time and peak RSS. Prints a Markdown table; the files live in a
# temporary folder under $BENCH_SCALE_DIR (default $TMPDIR or /tmp) that is deleted at the end.
# BENCH_SCALE_ROWS and BENCH_SCALE_COLS change the size; GOMLX_BACKEND the backend (default go).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_SCALE_ROWS:-2000000}
cols=${BENCH_SCALE_COLS:-256}
GO=${GO:-go}
PY=${NUMPY_PY:-/usr/bin/python3}
export GOEXPERIMENT=${GOEXPERIMENT-simd}
export GOMLX_BACKEND=${GOMLX_BACKEND:-go}
bash scripts/install-bench-deps.sh
$GO build -o bin/levstudy ./cmd/levstudy
dir=$(mktemp -d "${BENCH_SCALE_DIR:-${TMPDIR:-/tmp}}/levstudy-scale.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "bench-scale: writing a ${rows}×${cols} float32 matrix to $dir/x.npy" >&2
$GO run ./scripts/genmatrix -rows "$rows" -cols "$cols" -out "$dir/x.npy"
echo "bench-scale: levstudy leverage -basis npy:$dir/x.npy -out $dir/x.lev.npy" >&2
/usr/bin/time -v -o "$dir/go.time" bin/levstudy leverage -basis "npy:$dir/x.npy" -out "$dir/x.lev.npy" 2> "$dir/go.log" >&2 ||
  { cat "$dir/go.log" >&2; exit 1; }
grep -v '^leverage pass' "$dir/go.log" >&2 || true
echo "bench-scale: $PY scripts/bench/numpy_leverage.py $dir/x.npy $dir/x.lev.npy" >&2
/usr/bin/time -v -o "$dir/np.time" "$PY" scripts/bench/numpy_leverage.py "$dir/x.npy" "$dir/x.lev.npy" > "$dir/np.json"
"$PY" - "$dir" <<'PYEOF'
import json, os, re, sys
d = sys.argv[1]
def gnu_time(path):
    t = open(path).read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", t).group(1).split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return secs, rss
gw, grss = gnu_time(os.path.join(d, "go.time"))
nw, nrss = gnu_time(os.path.join(d, "np.time"))
s = json.load(open(os.path.join(d, "x.lev.npy.json")))
n = json.load(open(os.path.join(d, "np.json")))
size = os.path.getsize(os.path.join(d, "x.npy"))
print(f"Leverage of a {s['rows']:,} × {s['cols']} float32 .npy file ({size / 1e9:.2f} GB), {os.cpu_count()} CPUs\n")
print("| | levstudy (streamed from disk) | NumPy eigh of XᵀX (X in RAM, float64) |")
print("|---|---:|---:|")
print(f"| wall time, whole process | {gw:.1f} s | {nw:.1f} s |")
print(f"| of which reading + leverage | {s['seconds']:.1f} s | {n['total_s']:.1f} s (load {n['load_s']:.1f} s) |")
print(f"| peak RSS | {grss:,.0f} MiB | {nrss:,.0f} MiB |")
print(f"| rank | {s['rank']} | {n['rank']} |")
print(f"| Σℓ | {s['sum']:.9f} | {n['sum']:.9f} |")
print(f"| rows with ℓ > 0.99 | {s['near_one']} | {n['near_one']} |")
at = n["at_row"]
print(f"\nlevstudy / NumPy wall time: {gw / nw:.2f}×; levstudy's peak RSS is {100 * grss * 2**20 / size:.1f}% of the file.  ")
print(f"max |Δℓ| = {n['max_abs_diff']:.2e} at row {n['max_abs_diff_row']} (levstudy {at['levstudy']!r}, NumPy {at['numpy']!r}); "
      f"over the rows with ℓ ≤ 0.99: {n['max_abs_diff_below_0.99']:.2e}.  ")
print(f"levstudy {s['method']}, refined {s['refined']}, {s['passes']} passes ({os.environ['GOMLX_BACKEND']} backend, GoMLX {s['versions']['gomlx']}); NumPy {n['numpy']}, "
      f"its load including the float64 conversion {n['load_s']:.1f} s, G, eigh and the product {n['compute_s']:.1f} s.  ")
passes = re.findall(r"leverage pass (\d+): ([^:]+): \d+/\d+ \(100%\), (\S+) elapsed", open(os.path.join(d, "go.log")).read())
print("levstudy's passes (reading the file included): " + "; ".join(f"{k} {name} {t}" for k, name, t in passes) + ".")
PYEOF
