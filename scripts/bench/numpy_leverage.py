#!/usr/bin/env python3
"""NumPy reference for the scale benchmark (make bench-scale): float64 leverage of an N×D .npy matrix
by the eigendecomposition of its Gram matrix, held in memory, compared with levstudy's scores.

    G = XᵀX,  G = V Λ Vᵀ (numpy.linalg.eigh),  keep λ_j > λ_max·D·eps64 (numpy.linalg.matrix_rank's
    tolerance for G),  ℓ = rowsum((X V_r Λ_r^{-1/2})²)

Usage: numpy_leverage.py X.npy [LEVSTUDY_SCORES.npy]
Prints one JSON object: load and compute seconds, rank, Σℓ, peak RSS (MiB, getrusage), and with the
second file max |Δℓ| against levstudy's float64 scores, its row and both values there, and max |Δℓ|
over the rows where both scores are ≤ 0.99.
"""
import json
import resource
import sys
import time

import numpy as np


def main():
    path = sys.argv[1]
    t0 = time.perf_counter()
    x = np.load(path)
    x = x.astype(np.float64, copy=False)  # float32 file: one float64 copy, the float32 array is freed
    t1 = time.perf_counter()
    g = x.T @ x
    w, v = np.linalg.eigh(g)
    tol = w.max() * g.shape[0] * np.finfo(np.float64).eps
    keep = w > tol
    m = v[:, keep] / np.sqrt(w[keep])
    y = x @ m
    np.square(y, out=y)
    lev = y.sum(axis=1)
    del y
    t2 = time.perf_counter()
    out = {
        "rows": x.shape[0], "cols": x.shape[1], "load_s": t1 - t0, "compute_s": t2 - t1, "total_s": t2 - t0,
        "rank": int(keep.sum()), "sum": float(lev.sum()), "max": float(lev.max()), "near_one": int((lev > 0.99).sum()),
        "numpy": np.__version__,
    }
    if len(sys.argv) > 2:
        ours = np.load(sys.argv[2])
        d = np.abs(ours - lev)
        i = int(d.argmax())
        out["max_abs_diff"] = float(d[i])
        out["max_abs_diff_row"] = i
        out["at_row"] = {"levstudy": float(ours[i]), "numpy": float(lev[i])}
        rest = (ours <= 0.99) & (lev <= 0.99)
        out["max_abs_diff_below_0.99"] = float(d[rest].max())
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()
