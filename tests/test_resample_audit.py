"""Test-gap audit of the resampling pillar: checks that can fail when an estimator or interval is wrong.

* cluster bootstrap: coverage by simulation under strong within-cluster correlation (and the row
  bootstrap's failure there, the negative control);
* normal bootstrap interval: hand formula on explicit resamples;
* .632 / .632+ (bootstrap_error): an independent hand computation on the same bootstrap samples
  (mlxtend's .632+ is defined per round with the round model's training error, unclipped R and an
  accuracy-only gamma, so it cannot agree except in degenerate cases; see workbench/resample/oob.py);
* Wald and Agresti-Min intervals: hand formula and EXACT coverage (they depend on (b, c, n) only);
* McNemar exact / mid-p / chi-square: EXACT size under the null by enumeration;
* McNemar bootstrap interval: the paired percentile bootstrap of the correctness differences;
* Friedman / Iman-Davenport / Nemenyi / Wilcoxon-Holm: type-I (family-wise) error under a true null.
"""
import warnings

import numpy as np
import pytest
from scipy import special, stats
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier

from workbench.resample import (bootstrap_ci, bootstrap_error, friedman_test, mcnemar_test, nemenyi_test,
                                paired_difference_interval, wilcoxon_holm_test)
from workbench.resample.bootstrap import _compute, _interval_from_core

LEVEL = 0.95


def _mc_band(R, level=LEVEL):
    """3.5 Monte Carlo standard errors of a coverage (or rejection rate) estimated from R replicates."""
    return 3.5 * np.sqrt(level * (1 - level) / R)


# ------------------------------------------------------------------------------------------------
# Cluster bootstrap: coverage under within-cluster correlation
# ------------------------------------------------------------------------------------------------
CLUSTER_METHODS = ("percentile", "bca", "studentized")


def _clustered(rng, G, effect):
    """Rows in G clusters of unequal size (2..20), cluster effect + row noise (ICC ~0.5-0.8); truth E[x] = 1."""
    sizes = rng.integers(2, 21, G)
    g = np.repeat(np.arange(G), sizes)
    u = rng.normal(1.0, 1.0, G) if effect == "normal" else rng.exponential(1.0, G)
    return u[g] + 0.5 * rng.normal(size=g.size), g


def cluster_coverage(R, B, G, seed, effect="normal", schemes=("multinomial", "poisson"), iid=True):
    """Coverage of the 95% cluster-bootstrap intervals (and of the row bootstrap) of the row mean."""
    ss = np.random.SeedSequence([seed, G, R])
    rng = np.random.default_rng(ss.spawn(1)[0])
    boot_seeds = ss.generate_state(R, dtype=np.uint64)  # independent resampling per data set
    cases = [(s, True) for s in schemes] + ([("multinomial", False)] if iid else [])
    hits = {(s, grp, m): 0 for s, grp in cases for m in CLUSTER_METHODS}
    for r in range(R):
        x, g = _clustered(rng, G, effect)
        for s, grp in cases:
            core, *_ = _compute(x, "mean", CLUSTER_METHODS, n_resamples=B, random_state=int(boot_seeds[r]),
                                resampling=s, groups=g if grp else None, indices=None, vectorized=True)
            for m in CLUSTER_METHODS:
                lo, hi = _interval_from_core(core, m, 1 - LEVEL)
                hits[(s, grp, m)] += float(np.atleast_1d(lo)[0]) <= 1.0 <= float(np.atleast_1d(hi)[0])
    return {k: v / R for k, v in hits.items()}


def test_cluster_bootstrap_covers_under_within_cluster_correlation():
    # R = 400 data sets of G = 80 clusters (2-20 rows each, ICC ~0.8), B = 399 resamples, multinomial
    # and hashed-Poisson cluster weights. Band: 0.95 +- 3.5 sqrt(.95 .05 / 400) = +-0.038 for every
    # method (observed 0.922-0.945). Negative control: the row bootstrap ignores the correlation and
    # covers ~0.39 (< 0.7).
    R = 400
    cov = cluster_coverage(R, 399, 80, seed=1)
    print({k: round(v, 3) for k, v in cov.items()})
    for (scheme, grouped, m), c in cov.items():
        if grouped:
            assert abs(c - LEVEL) <= _mc_band(R), (scheme, m, c)
        else:
            assert c < 0.7, (m, c)


@pytest.mark.slow
def test_cluster_bootstrap_coverage_thorough():
    # R = 2000, B = 999: normal cluster effects with G = 40 and 120 clusters, and skewed (exponential)
    # effects with G = 120. Band: 0.95 +- 3.5 sqrt(.95 .05 / 2000) = +-0.017, less 0.01 on the lower
    # side at G = 40 and for skewed effects, where the percentile method is first-order only.
    # Observed: 0.935-0.952 (G = 40), 0.944-0.955 (G = 120), 0.932-0.944 (exponential).
    R = 2000
    for G, effect in ((40, "normal"), (120, "normal"), (120, "exponential")):
        cov = cluster_coverage(R, 999, G, seed=2, effect=effect, iid=False)
        print(G, effect, {k: round(v, 3) for k, v in cov.items()})
        slack = 0.0 if (G == 120 and effect == "normal") else 0.01
        for (scheme, _, m), c in cov.items():
            if effect == "exponential" and m == "percentile":
                assert c >= LEVEL - _mc_band(R) - 0.02, (G, effect, scheme, m, c)
                continue
            assert LEVEL - _mc_band(R) - slack <= c <= LEVEL + _mc_band(R), (G, effect, scheme, m, c)


# ------------------------------------------------------------------------------------------------
# Normal bootstrap interval: hand formula
# ------------------------------------------------------------------------------------------------
def test_normal_interval_is_estimate_plus_minus_z_bootstrap_sd():
    rng = np.random.default_rng(21)
    x = rng.exponential(size=(70, 2))
    idx = rng.integers(0, 70, (400, 70))
    r = bootstrap_ci(x, method="normal", resampling="indices", indices=idx, alpha=0.1)
    reps = x[idx].mean(axis=1)
    sd = reps.std(axis=0, ddof=1)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(r.ci_low, x.mean(0) - z * sd, rtol=1e-12)
    np.testing.assert_allclose(r.ci_high, x.mean(0) + z * sd, rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# .632 / .632+ end to end against a hand computation on the same bootstrap samples
# ------------------------------------------------------------------------------------------------
def _hand_632(est_factory, X, y, splits, loss):
    """Efron & Tibshirani (1997) written out with numpy only: resubstitution error of the full fit,
    leave-one-out bootstrap error Err(1) (per row over the samples that leave it out, then over rows),
    no-information error gamma over all n^2 pairs (y_i, f(x_j)), R, and .632 / .632+ (eq. 32)."""
    n = len(y)
    tot, cnt = np.zeros(n), np.zeros(n)
    for tr, te in splits:
        f = est_factory().fit(X[tr], y[tr])
        tot[te] += loss(y[te], f.predict(X[te]))  # te holds distinct rows
        cnt[te] += 1
    err1 = np.mean(tot[cnt > 0] / cnt[cnt > 0])
    full = est_factory().fit(X, y).predict(X)
    err = np.mean(loss(y, full))
    gamma = np.mean(loss(y[:, None], full[None, :]))
    e1p = min(err1, gamma)
    R = (e1p - err) / (gamma - err) if (e1p > err and gamma > err) else 0.0
    R = min(max(R, 0.0), 1.0)
    w = 0.632 / (1 - 0.368 * R)
    e632 = 0.368 * err + 0.632 * err1
    plus = e632 + (e1p - err) * 0.368 * 0.632 * R / (1 - 0.368 * R)
    if err1 <= gamma:  # eq. 29 must give the same number
        assert plus == pytest.approx((1 - w) * err + w * err1, rel=1e-12)
    return err1, err, gamma, R, e632, plus


def _splits(n, B, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(B):
        tr = rng.integers(0, n, n)
        out.append((tr, np.setdiff1d(np.arange(n), tr)))
    return out


@pytest.mark.parametrize("case", ["tree-zero-one", "knn-noise-zero-one", "knn-squared"])
def test_bootstrap_error_632_and_632plus_equal_a_hand_computation(case):
    rng = np.random.default_rng(5)
    n = 70
    X = rng.normal(size=(n, 3))
    if case == "tree-zero-one":  # some signal, unbalanced classes (so gamma depends on the predictions'
        # class shares), a tree that overfits a little: 0 < R < 1
        y = (X[:, 0] + 0.8 * rng.normal(size=n) > 0.5).astype(int)
        factory, loss = (lambda: DecisionTreeClassifier(max_depth=3, random_state=0)), \
            (lambda t, p: (np.asarray(t) != np.asarray(p)).astype(float))
    elif case == "knn-noise-zero-one":  # pure noise, 1-NN memorises: Err(1) can exceed gamma, R = 1
        y = rng.integers(0, 3, n)
        factory, loss = (lambda: KNeighborsClassifier(1)), (lambda t, p: (np.asarray(t) != np.asarray(p)).astype(float))
    else:
        y = X[:, 0] + X[:, 1] ** 2 + 0.5 * rng.normal(size=n)
        factory, loss = (lambda: KNeighborsRegressor(3)), (lambda t, p: (np.asarray(t) - np.asarray(p)) ** 2)
    splits = _splits(n, 60, seed=9)
    err1, err, gamma, R, e632, plus = _hand_632(factory, X, y, splits, loss)
    ours = bootstrap_error(factory(), X, y, cv=splits)
    assert ours.oob == pytest.approx(err1, rel=1e-12)
    assert ours.resubstitution == pytest.approx(err, rel=1e-12, abs=1e-15)
    assert ours.no_information == pytest.approx(gamma, rel=1e-12)
    assert ours.relative_overfitting == pytest.approx(R, rel=1e-12, abs=1e-15)
    assert ours.point632 == pytest.approx(e632, rel=1e-12)
    assert ours.point632plus == pytest.approx(plus, rel=1e-12)
    if case == "tree-zero-one":
        assert 0 < R < 1  # the interesting branch is exercised
    if case == "knn-noise-zero-one":
        assert R == 1.0


# ------------------------------------------------------------------------------------------------
# Wald and Agresti-Min intervals for acc_A - acc_B: hand formula and exact coverage
# ------------------------------------------------------------------------------------------------
def test_agresti_min_is_wald_on_the_table_plus_one_half():
    z = stats.norm.ppf(0.975)
    for a, b, c, d in ((40, 10, 5, 45), (3, 0, 9, 2), (59, 6, 16, 80)):
        a2, b2, c2, d2 = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        n2 = a2 + b2 + c2 + d2
        diff = (b2 - c2) / n2
        half = z * np.sqrt((b2 + c2) - (b2 - c2) ** 2 / n2) / n2
        ours = paired_difference_interval([[a, b], [c, d]], method="agresti-min")
        assert ours == pytest.approx((max(diff - half, -1), min(diff + half, 1)), rel=1e-12)


SCENARIOS = [[0.6, 0.15, 0.1, 0.15], [0.8, 0.05, 0.05, 0.1], [0.7, 0.2, 0.05, 0.05], [0.85, 0.08, 0.02, 0.05],
             [0.4, 0.3, 0.2, 0.1]]


def test_wald_and_agresti_min_exact_coverage(paired_exact_coverage):
    # Exact (no Monte Carlo error) coverage of the 95% intervals, n = 30, 60, 100, five scenarios.
    # Observed: Agresti-Min 0.943-0.991 (conservative with few discordant pairs), Wald 0.912-0.967.
    # Bands: Agresti-Min >= 0.935 everywhere, mean within 0.95 +- 0.015, and within 0.95 +- 0.01 at
    # n = 100; Wald within 0.95 +- 0.01 at n = 100 (asymptotics) and worse than Agresti-Min at n = 30.
    def interval(method):
        return lambda b, c, n: paired_difference_interval([[n - b - c, b], [c, 0]], method=method)

    with warnings.catch_warnings():  # b = c = 0 tables count too (Wald's degenerate interval included)
        warnings.filterwarnings("ignore", "paired_difference_interval: no discordant pairs", RuntimeWarning)
        cov = {(n, m, i): paired_exact_coverage(n, p, interval(m)) for n in (30, 60, 100)
               for m in ("agresti-min", "wald") for i, p in enumerate(SCENARIOS)}
    am = np.array([v for (n, m, _), v in cov.items() if m == "agresti-min"])
    assert am.min() >= 0.935 and abs(am.mean() - 0.95) <= 0.015, am
    for i in range(len(SCENARIOS)):
        assert abs(cov[(100, "agresti-min", i)] - 0.95) <= 0.01, (i, cov[(100, "agresti-min", i)])
        assert abs(cov[(100, "wald", i)] - 0.95) <= 0.01, (i, cov[(100, "wald", i)])
    assert min(cov[(30, "wald", i)] for i in range(5)) < min(cov[(30, "agresti-min", i)] for i in range(5))


# ------------------------------------------------------------------------------------------------
# McNemar: exact size under the null, and the bootstrap interval
# ------------------------------------------------------------------------------------------------
def _mcnemar_size(n, method, p_disc, alpha=0.05):
    """Exact P(reject) under H0 (p12 = p21): N = b + c ~ Bin(n, p_disc), b | N ~ Bin(N, 1/2). The
    p-value depends on (N, min(b, c)) only, so one call per (N, k <= N / 2)."""
    reject = np.zeros((n + 1, n + 1))
    for N in range(1, n + 1):
        for k in range(N // 2 + 1):
            rej = mcnemar_test(table=[[0, k], [N - k, 0]], method=method).p_value < alpha
            reject[N, k] = reject[N, N - k] = rej
    out = []
    for pd in p_disc:
        wN = stats.binom.pmf(np.arange(n + 1), n, pd)
        pb = np.array([np.r_[stats.binom.pmf(np.arange(N + 1), N, 0.5), np.zeros(n - N)] for N in range(n + 1)])
        out.append(float(wN @ (pb * reject).sum(axis=1)))
    return np.array(out)


def test_mcnemar_exact_size_under_the_null():
    # Exact sizes at alpha = 0.05, n = 60, discordance probability 0.05-0.5 (no Monte Carlo error).
    # Observed: exact 0.002-0.031 (conservative), mid-p 0.009-0.047 (never above 0.05, closer),
    # chi-square 0.030-0.052. Bands: exact <= 0.05 everywhere (guaranteed by construction); mid-p <= 0.05
    # and >= the exact test's size, and >= 0.035 once the expected number of discordant pairs is >= 12;
    # chi-square within 0.05 +- 0.01 there.
    p_disc = np.array([0.05, 0.1, 0.2, 0.3, 0.5])
    ex, mid, chi = (_mcnemar_size(60, m, p_disc) for m in ("exact", "mid-p", "asymptotic"))
    print("\nsize exact", ex.round(4), "mid-p", mid.round(4), "chi2", chi.round(4))
    assert np.all(ex <= 0.05)
    assert np.all(mid <= 0.05) and np.all(mid >= ex)
    big = p_disc * 60 >= 12
    assert np.all(mid[big] >= 0.035), mid
    assert np.all(np.abs(chi[big] - 0.05) <= 0.01), chi


def test_mcnemar_bootstrap_interval_is_the_paired_percentile_bootstrap():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 250)
    pa = np.where(rng.random(250) < 0.85, y, 1 - y)
    pb = np.where(rng.random(250) < 0.8, y, 1 - y)
    r = mcnemar_test(y, pa, pb, ci_method="bootstrap", n_resamples=700, random_state=3, alpha=0.1)
    ref = bootstrap_ci((pa == y).astype(float) - (pb == y), method="percentile", n_resamples=700, random_state=3,
                       alpha=0.1)
    assert (r.ci_low, r.ci_high) == (ref.ci_low, ref.ci_high)
    assert r.effect == pytest.approx(np.mean((pa == y).astype(float) - (pb == y)), rel=1e-12)


# ------------------------------------------------------------------------------------------------
# Many data sets: type-I error under a true null
# ------------------------------------------------------------------------------------------------
def test_rank_tests_type_one_error_under_the_null():
    # 500 null score matrices (N = 15 data sets, k = 4 exchangeable algorithms). Friedman and
    # Iman-Davenport p-values must be ~uniform: the rejection rate at each level a in {.05, .1, .25, .5}
    # within a +- 3.5 sqrt(a (1 - a) / 500) (+-0.034 at .05, +-0.078 at .5; the larger levels catch a
    # too-conservative test). Nemenyi family-wise error at alpha = .05 (any pair significant):
    # <= 0.05 + 0.034 and >= 0.01 (it is conservative: 0.04 over 4000 data sets).
    # Observed: Friedman .050/.124/.264/.500, Iman-Davenport .056/.132/.264/.500, Nemenyi .040.
    R, N, k = 500, 15, 4
    rng = np.random.default_rng(77)
    p_f, p_id, fwer = [], [], 0
    for _ in range(R):
        r = nemenyi_test(rng.normal(size=(N, k)))
        p_f.append(r.p_value)
        p_id.append(r.iman_davenport_p_value)
        fwer += bool(r.pairwise["significant"].any())
    for a in (0.05, 0.1, 0.25, 0.5):
        band = 3.5 * np.sqrt(a * (1 - a) / R)
        for name, p in (("friedman", p_f), ("iman-davenport", p_id)):
            assert abs(np.mean(np.array(p) < a) - a) <= band, (name, a, np.mean(np.array(p) < a))
    assert 0.01 <= fwer / R <= 0.05 + _mc_band(R, 0.95), fwer / R


@pytest.mark.slow
def test_rank_tests_type_one_error_thorough():
    # 2000 null matrices (N = 12, k = 4); band +-3.5 sqrt(.05 .95 / 2000) = +-0.017. Wilcoxon-Holm
    # controls the family-wise error: <= 0.05 + 0.017. Friedman (chi-square approximation) and
    # Iman-Davenport within 0.05 +- 0.017; Nemenyi FWER <= 0.05 + 0.017. Observed: .046, .058, .043,
    # Wilcoxon-Holm .038 (~150 s: scipy's exact Wilcoxon dominates).
    R = 2000
    rng = np.random.default_rng(78)
    rej = {"friedman": 0, "iman_davenport": 0, "nemenyi_fwer": 0, "wilcoxon_holm_fwer": 0}
    for _ in range(R):
        S = rng.normal(size=(12, 4))
        r = nemenyi_test(S)
        rej["friedman"] += r.p_value < 0.05
        rej["iman_davenport"] += r.iman_davenport_p_value < 0.05
        rej["nemenyi_fwer"] += bool(r.pairwise["significant"].any())
        rej["wilcoxon_holm_fwer"] += bool(wilcoxon_holm_test(S).pairwise["significant"].any())
    rate = {key: v / R for key, v in rej.items()}
    print(rate)
    band = _mc_band(R, 0.95)
    assert abs(rate["friedman"] - 0.05) <= band and abs(rate["iman_davenport"] - 0.05) <= band, rate
    assert rate["nemenyi_fwer"] <= 0.05 + band and rate["wilcoxon_holm_fwer"] <= 0.05 + band, rate
    assert friedman_test(S).statistic == pytest.approx(r.statistic)


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e160, 1e300])
def test_bootstrap_standard_error_scales_with_the_data(scale):
    # Regression: the standard error squared the replicates: 0 for data near 1e-300, inf near 1e300.
    from workbench.resample import bootstrap_ci

    x = np.random.default_rng(3).normal(size=200)
    base = bootstrap_ci(x, random_state=0)
    scaled = bootstrap_ci(x * scale, random_state=0)
    assert scaled.standard_error == pytest.approx(base.standard_error * scale, rel=1e-12, abs=0)
    np.testing.assert_allclose(scaled.confidence_interval, np.multiply(base.confidence_interval, scale), rtol=1e-12)
