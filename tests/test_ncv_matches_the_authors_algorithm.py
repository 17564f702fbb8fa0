"""ncv_interval computes the nested-CV interval of Bates, Hastie & Tibshirani (2023) as the authors' R package
``nestedcv`` (``nested_cv``, last revision 2022) does: checked here against a direct implementation of that
algorithm on the same fold assignments (replayed from the same seed).

Until 2026-12-01 the function followed an earlier version of that code: the pivot of fold f compared the inner CV
with a random other fold's (K - 2)-fold model instead of the (K - 1)-fold model, the inflation was a variance ratio
of fold means, and the bias multiplier used K - 1 for K; its standard error could be 1.5x the authors' (n = 200,
K = 5). The old code fails this test.
"""
import math

import numpy as np
import pytest
from scipy import special
from sklearn.linear_model import LinearRegression

from workbench.resample import ncv_interval


def _authors(X, y, K, R, bias_reps, seed, alpha):
    """The algorithm of nestedcv::nested_cv, written out with plain fits (squared loss)."""
    rng = np.random.default_rng(seed)  # ncv_interval's draws: R nested assignments, then the ordinary CV runs
    n = y.size
    folds = [rng.permutation(np.arange(n) % K) for _ in range(R)]

    def errors(train_mask, test_mask):
        m = LinearRegression().fit(X[train_mask], y[train_mask])
        return (m.predict(X[test_mask]) - y[test_mask]) ** 2

    a, b, errs = [], [], []
    for fold in folds:
        inner = {}  # (f, g): errors on fold g of the model fitted without folds f and g
        for f in range(K):
            for g in range(f + 1, K):
                train = (fold != f) & (fold != g)
                inner[(g, f)], inner[(f, g)] = errors(train, fold == f), errors(train, fold == g)
                errs += [inner[(g, f)], inner[(f, g)]]
        for f in range(K):
            e_out = errors(fold != f, fold == f)
            e_in = np.concatenate([inner[(f, g)] for g in range(K) if g != f])
            a.append(e_in.mean() - e_out.mean())
            b.append(e_out.var(ddof=1) / e_out.size)
    errs = np.concatenate(errs)
    mse = np.mean(np.square(a)) - np.mean(b)
    sd = errs.std(ddof=1)
    infl = min(max(math.sqrt(max(0.0, mse)) / (sd / math.sqrt(math.floor(n * (K - 1) / K))), 1.0), math.sqrt(K))
    cv_means = []
    for _ in range(bias_reps):
        fold = rng.permutation(np.arange(n) % K)
        cv_means.append(np.concatenate([errors(fold != f, fold == f) for f in range(K)]).mean())
    bias = (errs.mean() - np.mean(cv_means)) * (1 + ((K - 2) / K) ** 1.5)
    value = errs.mean() - bias
    se = sd / math.sqrt(n) * infl
    z = special.ndtri(1 - alpha / 2)
    return {"value": value, "se": se, "ci_low": value - z * se, "ci_high": value + z * se, "bias": bias,
            "inflation": infl ** 2, "raw_mean": errs.mean()}


@pytest.mark.parametrize("n,K,R,seed", [(60, 4, 3, 0), (61, 5, 2, 7), (90, 3, 4, 1)])
def test_ncv_interval_is_the_authors_algorithm_on_the_same_folds(n, K, R, seed):
    rng = np.random.default_rng(100 + seed)
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -0.5, 0.2] + rng.standard_t(4, size=n)
    got = ncv_interval(LinearRegression(), X, y, n_folds=K, n_reps=R, bias_reps=2, alpha=0.1, random_state=seed,
                       progress=False).iloc[0]
    want = _authors(X, y, K, R, 2, seed, 0.1)
    for key, v in want.items():
        assert got[key] == pytest.approx(v, rel=1e-10, abs=1e-12), key
    assert got["n_fits"] == R * (K * (K - 1) // 2 + K) + 2 * K


def _covers(s, n=100, p=20):
    rng = np.random.default_rng(20_000 + s)
    beta = np.linspace(1, 0.1, p)
    X = rng.normal(size=(n, p))
    y = X @ beta + rng.normal(size=n)
    X_new = rng.normal(size=(20_000, p))
    truth = float(np.mean((LinearRegression().fit(X, y).predict(X_new) - X_new @ beta - rng.normal(size=20_000)) ** 2))
    r = ncv_interval(LinearRegression(), X, y, n_folds=5, n_reps=10, random_state=s, progress=False)
    return [float(r.iloc[k]["ci_low"] <= truth <= r.iloc[k]["ci_high"]) for k in (0, 1)]


@pytest.mark.slow
def test_ncv_covers_err_xy_where_the_naive_interval_undercovers():
    # 300 data sets (n = 100, 20 features, linear regression, K = 5, 10 repetitions), nominal 90%, Err_XY on 20,000
    # fresh rows; about a minute. Measured: ncv 0.967 (0.953 with the earlier algorithm), naive 0.797. The paper
    # reports ncv at or a little above nominal; the band allows that and fails a naive-like interval.
    from joblib import Parallel, delayed

    hits = np.array(Parallel(n_jobs=2)(delayed(_covers)(s) for s in range(300)))
    assert 0.88 <= hits[:, 0].mean() <= 0.99, hits.mean(axis=0)
    assert hits[:, 1].mean() <= 0.85, hits.mean(axis=0)
