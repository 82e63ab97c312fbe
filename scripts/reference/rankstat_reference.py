#!/usr/bin/env python3
"""Reference values for levlib/rankstat from scipy (Debian python3-scipy 1.10.1).

Run once; the output is committed as levlib/rankstat/testdata/scipy_reference.json:

    python3 scripts/reference/rankstat_reference.py > levlib/rankstat/testdata/scipy_reference.json
"""
import json
import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261129)
cases = []


def add(name, x, y):
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    tau = stats.kendalltau(x, y, variant="b").statistic
    rho = stats.spearmanr(x, y).statistic
    wt = stats.weightedtau(x, y).statistic
    cases.append(dict(name=name, x=x, y=y, kendall_tau_b=tau, spearman=rho, weighted_tau=wt))


add("continuous n=200", rng.normal(size=200), rng.normal(size=200))
x = rng.normal(size=300)
add("correlated n=300", x, x + 0.5 * rng.normal(size=300))
add("ties in both n=300", rng.integers(0, 10, size=300), rng.integers(0, 7, size=300))
xi = rng.integers(0, 20, size=250)
add("ties, correlated n=250", xi, xi + rng.integers(0, 5, size=250))
add("ties in x only n=150", rng.integers(0, 5, size=150), rng.normal(size=150))
add("n=2", [1, 2], [2, 1])
add("n=3 ties", [1, 1, 2], [3, 1, 2])
add("reversed n=50", np.arange(50), -np.arange(50))
print(json.dumps(dict(source=f"scipy {scipy.__version__} stats.kendalltau(variant='b'), spearmanr, weightedtau (defaults)",
                      cases=cases), indent=None))
