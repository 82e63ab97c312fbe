#!/usr/bin/env python3
"""Reference leverage scores of the MNIST RAW basis (numpy float64 SVD).

Run once (Debian python3-numpy); the output is committed as test data, Python is not a test dependency:

    python3 scripts/reference/mnist_raw_leverage.py DATA_DIR levlib/leverage/testdata/mnist_raw_leverage_svd.f64.gz

X is the combined 70k x 784 matrix (train rows then test rows, file order), pixels / 255 in float64.
U, s, Vt = numpy.linalg.svd(X, full_matrices=False); rank r = #{s > s_max * max(N, D) * eps64}
(numpy.linalg.matrix_rank's default tolerance); leverage_i = sum_{j<r} U[i, j]^2.
Output: gzip of N little-endian float64 values.
"""
import gzip, sys
import numpy as np


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main(data_dir, out):
    tr = idx(f"{data_dir}/train-images-idx3-ubyte.gz").reshape(-1, 784)
    te = idx(f"{data_dir}/t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    X = np.concatenate([tr, te]).astype(np.float64) / 255.0
    U, s, _ = np.linalg.svd(X, full_matrices=False)
    tol = s.max() * max(X.shape) * np.finfo(np.float64).eps
    r = int((s > tol).sum())
    lev = (U[:, :r] ** 2).sum(axis=1)
    print(f"N={X.shape[0]} D={X.shape[1]} rank={r} sum={lev.sum():.12f} max={lev.max():.12f} "
          f"s_max={s.max():.6f} s_r={s[r-1]:.6e} s_r+1={s[r] if r < len(s) else 0:.6e} tol={tol:.3e}")
    print("first5", lev[:5].tolist())
    with gzip.open(out, "wb") as f:
        f.write(lev.astype("<f8").tobytes())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
