"""Standard error and interval of the leave-one-out bootstrap / .632+ estimates (Efron & Tibshirani 1997).

Fast tier: ordinary least squares fitted on B bootstrap samples at once (weighted normal equations
in numpy), so R = 400 data sets take ~2 s. The truth is exact: for Gaussian X (no intercept) and
noise sd sigma, Err at training size n = sigma^2 (1 + p / (n - p - 1)) and the error of one fit on
an infinite independent test set is Err_XY = sigma^2 + |beta_hat - beta|^2.
Slow tier: scikit-learn's LDA through ``bootstrap_error`` on a classification task; the truth is
the average 0-1 error over 400 training sets on an independent test set of 20,000 rows.
"""
import warnings

import numpy as np
import pytest
from scipy import special
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import KFold

from workbench import ValidationError
from workbench.resample import BootstrapSplit, bootstrap_error
from workbench.resample.oob import _interval, _pointwise, _resolve_loss, oob_delta_se, point632plus

Z = special.ndtri(0.975)


def _ols_replicate(n, p, B, rng, sigma=1.0):
    beta = np.linspace(1.0, 0.2, p)
    X = rng.normal(size=(n, p))
    y = X @ beta + sigma * rng.normal(size=n)
    idx = rng.integers(0, n, (B, n))
    counts = np.zeros((B, n))
    np.add.at(counts, (np.repeat(np.arange(B), n), idx.ravel()), 1.0)
    bh = np.linalg.solve(np.einsum("bn,ni,nj->bij", counts, X, X), np.einsum("bn,ni,n->bi", counts, X, y)[..., None])
    L = (y[None, :] - bh[..., 0] @ X.T) ** 2
    se, d = oob_delta_se(counts, [(np.flatnonzero(counts[b] == 0), L[b, counts[b] == 0]) for b in range(B)])
    b_full = np.linalg.lstsq(X, y, rcond=None)[0]
    f = X @ b_full
    gamma = np.mean(y**2) - 2 * y.mean() * f.mean() + np.mean(f**2)  # all-pairs squared loss
    _, e632p, _, _ = point632plus(np.mean((y - f) ** 2), d["err1"], gamma)
    return d["err1"], se, d["se_uncorrected"], e632p, se * e632p / d["err1"], sigma**2 + np.sum((b_full - beta) ** 2)


def test_delta_method_se_matches_monte_carlo_sd_and_interval_covers_err():
    n, p, B, R = 40, 3, 200, 400
    rng = np.random.default_rng(2024)
    a = np.array([_ols_replicate(n, p, B, rng) for _ in range(R)])
    err1, se, se_raw, e632p, se632p, errxy = a.T
    truth = 1.0 + p / (n - p - 1)
    # SE: the mean delta-method SE is within 10% of the Monte Carlo sd of the estimate (the sd of
    # an sd over R = 400 is ~3.5%, so 10% is ~3 of its SEs). Observed: 0.289 vs 0.266 (oob),
    # 0.268 vs 0.248 (.632+).
    for est, s in ((err1, se), (e632p, se632p)):
        assert abs(s.mean() / est.std(ddof=1) - 1) <= 0.10, (s.mean(), est.std(ddof=1))
    # Without the Monte Carlo correction the SE is biased up (here by ~25%).
    assert se_raw.mean() > 1.15 * err1.std(ddof=1)
    # Coverage of Err by the 95% log-scale interval for .632+: band 0.95 +- 3.5 sqrt(.95 .05 / 400)
    # = +-0.038 (observed 0.94). The symmetric interval misses mostly below (right skew).
    lo, hi = _interval(e632p, se632p, 0.05, "log")
    cover = np.mean((lo <= truth) & (truth <= hi))
    print(f"\n.632+ log interval: coverage of Err {cover:.3f}, of Err_XY {np.mean((lo <= errxy) & (errxy <= hi)):.3f}")
    assert abs(cover - 0.95) <= 3.5 * np.sqrt(0.95 * 0.05 / R)
    nlo, nhi = _interval(e632p, se632p, 0.05, "normal")
    assert np.mean(nhi < truth) > np.mean(nlo > truth)


@pytest.fixture(scope="module")
def small_task():
    rng = np.random.default_rng(7)
    n = 60
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 4))
    X[:, :2] += 1.0 * y[:, None]
    return X, y


def test_bootstrap_error_se_equals_delta_method_on_its_own_splits(small_task):
    X, y = small_task
    est = LinearDiscriminantAnalysis()
    r = bootstrap_error(est, X, y, n_splits=300, random_state=3)
    # Recompute by hand from the same splits (BootstrapSplit with the seed bootstrap_error uses).
    splits = list(BootstrapSplit(300, random_state=3).split(X, y))
    loss_fn, _, name = _resolve_loss(None, est)
    oob = [(te, _pointwise(loss_fn, name, clone(est).fit(X[tr], y[tr]), X[te], y[te], None)) for tr, te in splits]
    counts = np.array([np.bincount(tr, minlength=len(y)) for tr, _ in splits])
    se, d = oob_delta_se(counts, oob)
    assert r.oob == pytest.approx(d["err1"], rel=1e-12)
    assert r.oob_se == pytest.approx(se, rel=1e-10)
    assert r.se == pytest.approx(se * r.point632plus / r.oob, rel=1e-10)
    assert r.ci_low < r.point632plus < r.ci_high
    assert r.ci_low == pytest.approx(r.point632plus * np.exp(-Z * r.se / r.point632plus), rel=1e-12)
    f = r.to_frame()
    assert list(f.columns[:5]) == ["estimator", "value", "se", "ci_low", "ci_high"]
    assert f.loc[f.estimator == ".632+", "ci_high"].item() == pytest.approx(r.ci_high)
    rn = bootstrap_error(est, X, y, n_splits=300, random_state=3, ci="normal")
    assert (rn.ci_low, rn.ci_high) == pytest.approx((r.point632plus - Z * r.se, r.point632plus + Z * r.se))
    with pytest.raises(ValidationError, match="ci"):
        bootstrap_error(est, X, y, n_splits=5, ci="t")


def test_singleton_groups_give_the_ungrouped_se(small_task):
    X, y = small_task
    a = bootstrap_error(LinearDiscriminantAnalysis(), X, y, n_splits=300, random_state=1)
    g = bootstrap_error(LinearDiscriminantAnalysis(), X, y, n_splits=300, random_state=1, groups=np.arange(len(y)))
    assert g.oob == pytest.approx(a.oob, rel=1e-9)
    assert g.oob_se == pytest.approx(a.oob_se, rel=1e-6)


def test_no_interval_when_it_cannot_be_backed(small_task):
    X, y = small_task
    est = LinearDiscriminantAnalysis()
    # Too few bootstrap samples for the covariance term: NaN and a warning naming a better B.
    # Fewer than 100 samples: point estimates only (no warning: that is how one asks for them),
    # and repr says why there is no interval.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = bootstrap_error(est, X, y, n_splits=20, random_state=0)
    assert np.isnan(r.se) and np.isnan(r.ci_low) and r.diagnostics["se"]["suggested_n_splits"] == 100
    assert "no CI (the standard error needs n_splits >= 100" in repr(r)
    # n = 400 with B = 100: the covariance term's noise dominates (needs B in the thousands).
    rng = np.random.default_rng(0)
    Xb, yb = rng.normal(size=(400, 4)), rng.integers(0, 2, 400)
    with pytest.warns(RuntimeWarning, match="dominated by Monte Carlo noise"):
        rb = bootstrap_error(est, Xb, yb, n_splits=100, random_state=0)
    assert np.isnan(rb.se) and rb.diagnostics["se"]["suggested_n_splits"] > 100
    # Not a bootstrap (k-fold) or an aggregate scorer: no delta-method SE, and the reason is recorded.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        k = bootstrap_error(est, X, y, cv=KFold(5))
    assert np.isnan(k.se) and "not a bootstrap" in k.diagnostics["se"]["reason"]
    s = bootstrap_error(est, X, y, scoring="accuracy", n_splits=10, random_state=0)
    assert np.isnan(s.se) and np.isnan(s.ci_low)


def _lda_task(n, rng):
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 5))
    X[:, :2] += 0.8 * y[:, None]
    return X, y


@pytest.mark.slow
def test_632plus_interval_coverage_classification():
    # LDA, n = 80, B = 400, R = 200 data sets; truth Err = mean 0-1 error of 400 independent fits
    # on a 20,000-row test set. Band: 0.95 +- 3.5 sqrt(.95 .05 / R) among the replicates that got
    # an interval; at most 10% may be refused (Monte Carlo noise too large).
    rng = np.random.default_rng(11)
    Xt, yt = _lda_task(20000, rng)
    est = LinearDiscriminantAnalysis()
    fits = [np.mean(clone(est).fit(*_lda_task(80, rng)).predict(Xt) != yt) for _ in range(400)]
    truth = float(np.mean(fits))
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for r in range(200):
            X, y = _lda_task(80, rng)
            res = bootstrap_error(est, X, y, n_splits=400, random_state=r)
            errxy = np.mean(clone(est).fit(X, y).predict(Xt) != yt)
            rows.append((res.point632plus, res.se, res.ci_low, res.ci_high, errxy, res.oob, res.oob_se))
    a = np.array(rows)
    ok = np.isfinite(a[:, 1])
    cov = np.mean((a[ok, 2] <= truth) & (truth <= a[ok, 3]))
    cov_xy = np.mean((a[ok, 2] <= a[ok, 4]) & (a[ok, 4] <= a[ok, 3]))
    print(f"\nLDA n=80: Err {truth:.4f}; .632+ mean {a[:, 0].mean():.4f} sd {a[:, 0].std():.4f} "
          f"mean se {np.nanmean(a[:, 1]):.4f}; oob sd {a[:, 5].std():.4f} mean se {np.nanmean(a[:, 6]):.4f}; "
          f"refused {1 - ok.mean():.3f}; coverage of Err {cov:.3f}, of Err_XY {cov_xy:.3f}")
    assert ok.mean() >= 0.9
    assert abs(cov - 0.95) <= 3.5 * np.sqrt(0.95 * 0.05 / ok.sum())


def test_bootstrap_split_groups_follow_the_one_unit_id_rule():
    # [1, "1"] would be merged into one group by np.unique of a list; missing and fractional ids refused
    from workbench import ValidationError
    from workbench.resample.oob import BootstrapSplit

    X = np.zeros((6, 1))
    for bad, rule in (([1, "1", 2, 2, 3, 3], "mixed"), ([None, 1, 2, 2, 3, 3], "missing"),
                      ([1.5, 1, 2, 2, 3, 3], "non-integral")):
        with pytest.raises(ValidationError, match=f"^groups: .*{rule}"):
            list(BootstrapSplit(3, random_state=0).split(X, groups=bad))
    ok = list(BootstrapSplit(3, random_state=0).split(X, groups=np.array([7, 7, 2, 2, 3, 3])))
    assert len(ok) == 3 and all(len(tr) == 6 for tr, _ in ok)
