#!/usr/bin/env python3
"""Reference values for levlib/stats from scipy (Debian python3-scipy 1.10.1, numpy 1.24.2).

Run once from levlib/stats; the output is committed as testdata/scipy_reference.json:

    /usr/bin/python3 testdata/stats_reference.py > testdata/scipy_reference.json

- describe: mean, sd (ddof=1), sem, and the 95% interval from scipy.stats.ttest_1samp(x, 0)
  .confidence_interval(0.95) (Student's t interval of the mean).
- t_quantiles: scipy.stats.t.ppf(0.975, df).
- welch: scipy.stats.ttest_ind(a, b, equal_var=False)'s statistic and p-value (scipy 1.10 gives no df
  or interval for it), the Welch-Satterthwaite df by its formula, and the interval
  scipy.stats.t.interval(0.95, df, loc=mean(a)-mean(b), scale=se).
- paired: scipy.stats.ttest_rel(a, b)'s statistic, p-value and confidence_interval(0.95).
"""
import json
import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261130)


def floats(v):
    return [float(x) for x in v]


describe = []
for name, x in [
    ("n=2", [0.91, 0.93]),
    ("n=3", [0.9712, 0.9688, 0.9731]),
    ("n=5 accuracies", [0.9123, 0.9150, 0.9098, 0.9171, 0.9133]),
    ("n=10 normal", rng.normal(0.5, 0.1, size=10)),
    ("n=30 skewed", rng.exponential(2.0, size=30)),
    ("n=8 large offset", 1e6 + rng.normal(0, 1e-3, size=8)),
]:
    x = np.asarray(x, dtype=float)
    ci = stats.ttest_1samp(x, 0).confidence_interval(0.95)
    describe.append(dict(name=name, x=floats(x), mean=float(np.mean(x)), sd=float(np.std(x, ddof=1)),
                         se=float(stats.sem(x)), lo=float(ci.low), hi=float(ci.high)))

t_quantiles = [dict(df=df, q975=float(stats.t.ppf(0.975, df)))
               for df in [1, 1.5, 2, 3, 4, 5, 6.594671, 9, 10, 29, 30, 100, 1000, 1e6]]

welch = []
for name, a, b in [
    ("hand example", [1, 2, 3, 4], [2, 4, 6, 8, 10, 12]),
    ("n=5 vs n=5", [0.9123, 0.9150, 0.9098, 0.9171, 0.9133], [0.9201, 0.9189, 0.9230, 0.9176, 0.9214]),
    ("unequal variances", rng.normal(0, 1, size=6), rng.normal(0.5, 5, size=12)),
    ("n=2 vs n=20", rng.normal(1, 0.1, size=2), rng.normal(0, 1, size=20)),
    ("one constant", [3, 3, 3], rng.normal(2, 1, size=7)),
]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    r = stats.ttest_ind(a, b, equal_var=False)
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    est = np.mean(a) - np.mean(b)
    lo, hi = stats.t.interval(0.95, df, loc=est, scale=se)
    welch.append(dict(name=name, a=floats(a), b=floats(b), statistic=float(r.statistic), pvalue=float(r.pvalue),
                      estimate=float(est), se=float(se), df=float(df), lo=float(lo), hi=float(hi)))

paired = []
for name, a, b in [
    ("n=4", [1, 2, 3, 4], [2, 4, 6, 9]),
    ("n=5 accuracies", [0.9123, 0.9150, 0.9098, 0.9171, 0.9133], [0.9201, 0.9189, 0.9230, 0.9176, 0.9214]),
    ("shared seed effect n=10", *(lambda s: (s + rng.normal(0, 0.01, size=10), s + 0.01 + rng.normal(0, 0.01, size=10)))(rng.normal(0.9, 0.05, size=10))),
]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    r = stats.ttest_rel(a, b)
    ci = r.confidence_interval(0.95)
    paired.append(dict(name=name, a=floats(a), b=floats(b), statistic=float(r.statistic), pvalue=float(r.pvalue),
                       df=float(r.df), lo=float(ci.low), hi=float(ci.high)))

print(json.dumps(dict(source=f"scipy {scipy.__version__}, numpy {np.__version__}: testdata/stats_reference.py",
                      describe=describe, t_quantiles=t_quantiles, welch=welch, paired=paired), indent=1))
