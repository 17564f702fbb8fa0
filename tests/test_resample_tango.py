"""Tango's (1998) score interval for the paired accuracy difference acc_A - acc_B = (b - c) / n.

Evidence:
* equality with an independent brute-force inversion of the score test (restricted MLE found by
  bisection on the score equation, not by the closed-form quadratic; acceptance region read off a
  grid of deltas);
* EXACT coverage (no Monte Carlo error): Tango's interval depends on (b, c) only, so its coverage is
  the multinomial probability of the (b, c) pairs whose interval covers the truth; next to it,
  Newcombe's coverage by simulation (it also depends on a and d).
"""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench import ValidationError
from workbench.resample import mcnemar_test, paired_difference_interval
from workbench.resample.mcnemar import _tango_interval, tango_score_statistic

Z95 = stats.norm.ppf(0.975)


def _brute_statistic(b, c, n, deltas):
    """Score statistic on a vector of deltas with the restricted MLE of p21 by bisection (vectorised).

    Log-likelihood b log(p21 + d) + c log p21 + (n - b - c) log(1 - 2 p21 - d) is concave in p21 on
    (max(0, -d), (1 - d) / 2); its derivative is decreasing, so bisection on the sign finds the max.
    """
    d = np.asarray(deltas, float)
    m = n - b - c
    lo = np.maximum(0.0, -d)
    hi = (1.0 - d) / 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            g = (np.where(b > 0, b / (mid + d), 0.0) + np.where(c > 0, c / mid, 0.0)
                 - np.where(m > 0, 2 * m / (1 - 2 * mid - d), 0.0))
        up = g > 0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    p21 = (lo + hi) / 2
    return (b - c - n * d) / np.sqrt(n * (2 * p21 + d * (1 - d)))


TABLES = [[[59, 6], [16, 80]], [[1, 1], [7, 12]], [[40, 10], [5, 45]], [[10, 0], [0, 10]], [[0, 5], [0, 0]],
          [[3, 0], [9, 2]], [[794, 150], [86, 570]], [[0, 12], [1, 0]]]


@pytest.mark.parametrize("table", TABLES)
def test_tango_equals_brute_force_inversion(table):
    t = np.asarray(table)
    b, c, n = int(t[0, 1]), int(t[1, 0]), int(t.sum())
    lo, hi = paired_difference_interval(t, method="tango")
    grid = np.linspace(-1 + 1e-9, 1 - 1e-9, 40001)
    accepted = grid[np.abs(_brute_statistic(b, c, n, grid)) <= Z95]
    step = grid[1] - grid[0]
    assert accepted.min() - step <= lo <= accepted.min() + 1e-12
    assert accepted.max() - 1e-12 <= hi <= accepted.max() + step
    # At an interior limit the independent statistic equals +-z to high precision.
    if lo > -1:
        assert _brute_statistic(b, c, n, [lo])[0] == pytest.approx(Z95, abs=1e-7)
    if hi < 1:
        assert _brute_statistic(b, c, n, [hi])[0] == pytest.approx(-Z95, abs=1e-7)
    # The closed-form restricted MLE agrees with the bisection one on the grid.
    some = np.linspace(-0.999, 0.999, 41)
    ours = np.array([tango_score_statistic(b, c, n, d) for d in some])
    np.testing.assert_allclose(ours, _brute_statistic(b, c, n, some), rtol=1e-8, atol=1e-8)


def test_tango_properties_and_api():
    # Symmetry: swapping the models negates the interval; the estimate is inside; [-1, 1] respected.
    lo, hi = paired_difference_interval([[40, 10], [5, 45]], method="tango")
    slo, shi = paired_difference_interval([[40, 5], [10, 45]], method="tango")
    assert (slo, shi) == pytest.approx((-hi, -lo), abs=1e-10)
    assert lo < 0.05 < hi
    # No discordant pairs: not degenerate (Newcombe and Wald collapse to a point here).
    lo0, hi0 = paired_difference_interval([[10, 0], [0, 10]], method="tango")
    assert hi0 == pytest.approx(Z95**2 / (20 + Z95**2), rel=1e-9) and lo0 == pytest.approx(-hi0)
    # All pairs discordant in A's favour: the upper limit is the boundary 1.
    assert paired_difference_interval([[0, 5], [0, 0]], method="tango")[1] == 1.0
    # Higher confidence, wider interval.
    l99, h99 = paired_difference_interval([[40, 10], [5, 45]], alpha=0.01, method="tango")
    assert l99 < lo and h99 > hi
    r = mcnemar_test(table=[[40, 10], [5, 45]], ci_method="tango")
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi))
    with pytest.raises(ValidationError, match="method"):
        paired_difference_interval([[40, 10], [5, 45]], method="bootstrap")


def _simulated_coverage(n, p, method, R, rng):
    tables = rng.multinomial(n, p, size=R)
    delta = p[1] - p[2]
    with warnings.catch_warnings():  # the simulation measures Wald's coverage, b = c = 0 tables included
        warnings.filterwarnings("ignore", "paired_difference_interval: no discordant pairs", RuntimeWarning)
        hits = [lo <= delta <= hi for lo, hi in (paired_difference_interval(t.reshape(2, 2), method=method)
                                                 for t in tables)]
    return float(np.mean(hits))


SCENARIOS = [[0.6, 0.15, 0.1, 0.15], [0.8, 0.05, 0.05, 0.1], [0.7, 0.2, 0.05, 0.05], [0.85, 0.08, 0.02, 0.05],
             [0.4, 0.3, 0.2, 0.1]]


def _coverage_table(ns, R, seed, exact_coverage):
    rng = np.random.default_rng(seed)
    tango = lambda b, c, n: _tango_interval(b, c, n, Z95)  # noqa: E731
    rows = []
    for n in ns:
        for p in SCENARIOS:
            rows.append({"n": n, "p (both, A only, B only, neither)": str(p),
                         "tango (exact)": exact_coverage(n, p, tango),
                         "newcombe (sim)": _simulated_coverage(n, p, "newcombe", R, rng),
                         "wald (sim)": _simulated_coverage(n, p, "wald", R, rng)})
    return pd.DataFrame(rows)


def test_tango_exact_coverage_vs_newcombe(paired_exact_coverage):
    # n = 30 and 60, five scenarios: exact Tango coverage, and Newcombe / Wald over R = 2000 tables
    # (MC band +-3.5 sqrt(.95 .05 / 2000) = +-0.017). Observed: Tango 0.941-0.971 (mean ~0.955),
    # Newcombe 0.947-0.99 (conservative with few discordant pairs), Wald 0.91-0.97.
    table = _coverage_table((30, 60), R=2000, seed=0, exact_coverage=paired_exact_coverage)
    print("\n" + table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    tango = table["tango (exact)"].to_numpy()
    # Asymptotic score interval: every scenario within 0.93-0.975, and close to 0.95 on average.
    assert np.all((tango >= 0.93) & (tango <= 0.975)), tango
    assert abs(tango.mean() - 0.95) <= 0.01
    # Wald is the worst on average (it undercovers with few discordant pairs); Newcombe >= 0.93 - MC band.
    assert table["wald (sim)"].mean() < tango.mean()
    assert table["newcombe (sim)"].min() >= 0.93 - 0.017


@pytest.mark.slow
def test_tango_exact_coverage_thorough(paired_exact_coverage):
    table = _coverage_table((30, 100, 300), R=4000, seed=1, exact_coverage=paired_exact_coverage)
    print("\n95% interval coverage for acc_A - acc_B\n"
          + table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    tango = table["tango (exact)"].to_numpy()
    assert np.all((tango >= 0.93) & (tango <= 0.975)), tango
    big = table[table["n"] == 300]["tango (exact)"].to_numpy()
    assert np.all(np.abs(big - 0.95) <= 0.01), big  # asymptotics kick in
