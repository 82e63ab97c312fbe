#!/usr/bin/python3
"""Reference leverage for TestLeverageUnitsInvariant (run with /usr/bin/python3: Debian's numpy).

base.npy is the 400×12 Gaussian of issue 20 (numpy default_rng(20)). The variants are made from it in
the test; their references are numpy float64 SVD (LAPACK gesdd) leverage of the column-equilibrated X
(each column scaled by powers of two to unit norm, without under- or overflow: first by 2^-e, e the
exponent of its max |x|), rank with numpy.linalg.matrix_rank's tolerance σ_max·max(N, D)·eps:
  base.eq.npy          X itself (and X times any scale, per column or whole)
  one_1e300.eq.npy     X with X[17, 3] = 1e300
  col_one_1e-320.eq.npy X with column 3 = 1e-320·e_17 (a column whose only nonzero is subnormal)
"""
import numpy as np
def lev(X):
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    r = int((s > s.max() * max(X.shape) * np.finfo(np.float64).eps).sum())
    return (U[:, :r] ** 2).sum(axis=1)
def equilibrate(X):
    X = X.copy()
    for j in range(X.shape[1]):
        m = np.abs(X[:, j]).max()
        if m == 0: continue
        e = int(np.frexp(m)[1])
        X[:, j] = np.ldexp(np.ldexp(X[:, j], -e // 2), -e - (-e // 2))
        X[:, j] = np.ldexp(X[:, j], -int(np.frexp(np.sqrt((X[:, j] ** 2).sum()))[1]))
    return X
G = np.random.default_rng(20).standard_normal((400, 12))
np.save("base.npy", G)
np.save("base.eq.npy", lev(equilibrate(G)))
X = G.copy(); X[17, 3] = 1e300; np.save("one_1e300.eq.npy", lev(equilibrate(X)))
X = G.copy(); X[:, 3] = 0; X[17, 3] = 1e-320; np.save("col_one_1e-320.eq.npy", lev(equilibrate(X)))
