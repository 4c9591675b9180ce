"""One-off: prints the SciPy reference values used in test/eval/significance.test.ts.

Run: .venv/bin/python bench/py/ranking_significance_expected.py
"""

import numpy as np
import scipy
from scipy import stats

print("scipy", scipy.__version__)

cases = {
    # small, no ties, no zeros -> exact Wilcoxon distribution
    "small": (
        [0.31, 0.52, 0.12, 0.77, 0.45, 0.60, 0.21, 0.90, 0.35, 0.48],
        [0.25, 0.40, 0.20, 0.70, 0.30, 0.66, 0.05, 0.71, 0.36, 0.28],
    ),
    # ties and zeros, n <= 13 -> exact enumeration (permutation)
    "ties": (
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        [0, 2, 1, 5, 3, 6, 8, 6, 7, 8],
    ),
}
# larger: > 50 pairs -> normal approximation with tie correction and continuity correction
rng = np.random.default_rng(7)
a = np.round(rng.random(80), 2)
b = np.round(a - 0.05 + 0.2 * rng.random(80) - 0.1, 2)
cases["large"] = (a.tolist(), b.tolist())

for name, (x, y) in cases.items():
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    t = stats.ttest_rel(x, y)
    w = stats.wilcoxon(x, y)  # method="auto", correction=False
    d = x - y
    print(name)
    print("  a =", x.tolist())
    print("  b =", y.tolist())
    print(f"  ttest_rel: t={t.statistic!r} p={t.pvalue!r} cohen_dz={d.mean() / d.std(ddof=1)!r}")
    print(f"  wilcoxon: statistic={w.statistic!r} p={w.pvalue!r}")
    wa = stats.wilcoxon(x, y, method="asymptotic")
    print(f"  wilcoxon asymptotic (correction=False, scipy default): p={wa.pvalue!r} z={wa.zstatistic!r}")
    wc = stats.wilcoxon(x, y, method="asymptotic", correction=True)
    print(f"  wilcoxon asymptotic correction=True: p={wc.pvalue!r} z={wc.zstatistic!r}")
    wd = stats.wilcoxon(x, y, correction=True)
    print(f"  wilcoxon auto correction=True: statistic={wd.statistic!r} p={wd.pvalue!r}")
