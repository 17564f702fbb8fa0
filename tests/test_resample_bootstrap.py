"""bootstrap_ci / bootstrap_intervals / compare_models / model_confidence_set: parity and invariances."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import workbench as wb
from workbench import ValidationError
from workbench.resample import (bootstrap_ci, bootstrap_intervals, compare_models, model_confidence_set)


@pytest.fixture(scope="module")
def skewed():
    return np.random.default_rng(42).lognormal(size=150)


# ---------------------------------------------------------------- parity with scipy.stats.bootstrap
@pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
def test_scipy_parity_mean_same_indices(skewed, method, scipy_rng):
    # Our "multinomial" scheme draws default_rng(seed).integers(0, n, (B, n)): the same indices scipy
    # draws with rng=default_rng(seed); the BCa acceleration from influence values equals scipy's
    # leave-one-out jackknife exactly for a mean. So the intervals agree to rounding.
    ours = bootstrap_ci(skewed, method=method, n_resamples=999, random_state=7)
    ref = stats.bootstrap((skewed,), np.mean, method=method, n_resamples=999, **scipy_rng(7))
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-10, abs=1e-12)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-10, abs=1e-12)
    assert ours.standard_error == pytest.approx(ref.standard_error, rel=1e-10)
    np.testing.assert_allclose(np.sort(ours.bootstrap_distribution), np.sort(ref.bootstrap_distribution), rtol=1e-12)


def test_scipy_parity_explicit_indices_multi_column():
    rng = np.random.default_rng(3)
    L = rng.exponential(size=(80, 3))
    idx = rng.integers(0, 80, (500, 80))
    ours = bootstrap_ci(L, method="bca", resampling="indices", indices=idx)
    # Reference: BCa by hand on the same indices with scipy's formula pieces (jackknife acceleration).
    reps = L[idx].mean(axis=1)
    np.testing.assert_allclose(ours.bootstrap_distribution, reps, rtol=1e-12)
    for j in range(3):
        x = L[:, j]
        jack = (x.sum() - x) / (x.size - 1)
        d = jack.mean() - jack
        a = (d**3).sum() / (6 * (d**2).sum() ** 1.5)
        theta = x.mean()
        z0 = stats.norm.ppf(((reps[:, j] < theta).sum() + (reps[:, j] <= theta).sum()) / (2 * 500))
        zs = stats.norm.ppf([0.025, 0.975])
        adj = stats.norm.cdf(z0 + (z0 + zs) / (1 - a * (z0 + zs)))
        lo, hi = np.percentile(reps[:, j], adj * 100)
        assert ours.ci_low[j] == pytest.approx(lo, rel=1e-10)
        assert ours.ci_high[j] == pytest.approx(hi, rel=1e-10)


def test_scipy_parity_paired_difference(scipy_rng):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=120), rng.normal(0.2, 1, size=120)
    ref = stats.bootstrap((a, b), lambda x, y, axis=-1: np.mean(x - y, axis=axis), paired=True,
                          method="percentile", n_resamples=800, **scipy_rng(11))
    ours = bootstrap_ci(a - b, n_resamples=800, random_state=11)
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-10)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-10)
    cmp = compare_models(np.column_stack([a, b]), n_resamples=800, random_state=11)
    assert cmp.differences["ci_low"].iloc[0] == pytest.approx(ref.confidence_interval.low, rel=1e-10)


def test_bca_ratio_close_to_scipy_jackknife(scipy_rng):
    # For a ratio, influence values are the linearisation of the jackknife: close, not identical.
    rng = np.random.default_rng(8)
    den = rng.exponential(size=400) + 0.5
    num = den * rng.normal(1.0, 0.5, 400)
    ours = bootstrap_ci((num, den), statistic="ratio", method="bca", n_resamples=999, random_state=2)
    ref = stats.bootstrap((num, den), lambda x, y, axis=-1: x.mean(axis) / y.mean(axis), paired=True,
                          method="BCa", n_resamples=999, **scipy_rng(2))
    assert ours.estimate == pytest.approx(num.mean() / den.mean())
    assert ours.ci_low == pytest.approx(ref.confidence_interval.low, rel=2e-3)
    assert ours.ci_high == pytest.approx(ref.confidence_interval.high, rel=2e-3)


def test_callable_statistic_matches_mean_path_and_scipy_median(skewed, scipy_rng):
    fast = bootstrap_ci(skewed, method="bca", n_resamples=400, random_state=1)
    slow = bootstrap_ci(skewed, statistic=np.mean, method="bca", n_resamples=400, random_state=1)
    assert slow.ci_low == pytest.approx(fast.ci_low, rel=1e-10)
    assert slow.ci_high == pytest.approx(fast.ci_high, rel=1e-10)
    med = bootstrap_ci(skewed, statistic=np.median, method="bca", n_resamples=400, random_state=1)
    ref = stats.bootstrap((skewed,), np.median, method="BCa", n_resamples=400, **scipy_rng(1))
    assert med.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-10)
    assert med.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-10)


# ---------------------------------------------------------------- studentized internals
def test_studentized_replicate_se_equals_direct_computation():
    rng = np.random.default_rng(4)
    x = rng.exponential(size=60)
    idx = rng.integers(0, 60, (300, 60))
    res = bootstrap_ci(x, method="studentized", resampling="indices", indices=idx)
    xb = x[idx]
    se_b = xb.std(axis=1, ddof=0) / np.sqrt(60)
    t = (xb.mean(axis=1) - x.mean()) / se_b
    se = x.std(ddof=0) / np.sqrt(60)
    lo = x.mean() - np.percentile(t, 97.5) * se
    hi = x.mean() - np.percentile(t, 2.5) * se
    assert res.ci_low == pytest.approx(lo, rel=1e-10)
    assert res.ci_high == pytest.approx(hi, rel=1e-10)


def test_studentized_ratio_replicate_se_equals_delta_method():
    rng = np.random.default_rng(6)
    den = rng.exponential(size=50) + 0.2
    num = rng.normal(size=50) + den
    idx = rng.integers(0, 50, (200, 50))
    res = bootstrap_ci((num, den), statistic="ratio", method="studentized", resampling="indices", indices=idx)
    a, b = num[idx], den[idx]
    th = a.mean(1) / b.mean(1)
    U = (a - th[:, None] * b) / b.mean(1)[:, None]
    se_b = np.sqrt((U**2).mean(1) / 50)
    th0 = num.mean() / den.mean()
    se0 = np.sqrt((((num - th0 * den) / den.mean()) ** 2).mean() / 50)
    t = (th - th0) / se_b
    assert res.ci_low == pytest.approx(th0 - np.percentile(t, 97.5) * se0, rel=1e-9)
    assert res.ci_high == pytest.approx(th0 - np.percentile(t, 2.5) * se0, rel=1e-9)


# ---------------------------------------------------------------- Poisson / cluster invariances
def test_poisson_is_order_free_with_groups_and_matches_cluster_aggregation():
    rng = np.random.default_rng(9)
    n = 600
    g = rng.integers(0, 120, n)
    L = rng.exponential(size=(n, 2)) + g[:, None] % 3
    a = bootstrap_ci(L, method="bca", resampling="poisson", groups=g, n_resamples=300, random_state=5)
    perm = rng.permutation(n)
    b = bootstrap_ci(L[perm], method="bca", resampling="poisson", groups=g[perm], n_resamples=300, random_state=5)
    np.testing.assert_allclose(a.bootstrap_distribution, b.bootstrap_distribution, rtol=1e-12)
    np.testing.assert_allclose(a.ci_low, b.ci_low, rtol=1e-12)
    # String ids hash by value: same clusters, same answer whatever the id type's row order.
    c = bootstrap_ci(L, method="percentile", resampling="poisson", groups=np.array([f"u{v}" for v in g]),
                     n_resamples=300, random_state=5)
    assert c.n_groups == 120 == a.n_groups
    # Cluster weights really are shared: replicates equal the hand-built ratio of cluster sums.
    from workbench._random import hashed_poisson_weights, unit_keys

    uniq, inv = np.unique(g, return_inverse=True)
    W = hashed_poisson_weights(unit_keys(uniq, 5), 0, 300).astype(float)[inv]  # (n, B)
    np.testing.assert_allclose(a.bootstrap_distribution[:, 0], (W * L[:, :1]).sum(0) / W.sum(0), rtol=1e-10)


def test_singleton_groups_equal_ungrouped():
    x = np.random.default_rng(1).normal(size=200)
    for scheme in ("poisson", "multinomial"):
        a = bootstrap_ci(x, resampling=scheme, n_resamples=200, random_state=3, method="bca")
        b = bootstrap_ci(x, resampling=scheme, groups=np.arange(200), n_resamples=200, random_state=3, method="bca")
        np.testing.assert_allclose(a.bootstrap_distribution, b.bootstrap_distribution, rtol=1e-12)
        assert a.ci_low == pytest.approx(b.ci_low, rel=1e-12)


def test_cluster_bootstrap_widens_interval_for_clustered_data():
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(50), 20)
    x = rng.normal(size=50)[g] + 0.1 * rng.normal(size=1000)  # strong within-cluster correlation
    iid = bootstrap_ci(x, n_resamples=500, random_state=0)
    clu = bootstrap_ci(x, groups=g, n_resamples=500, random_state=0)
    assert clu.standard_error > 3 * iid.standard_error
    assert clu.standard_error == pytest.approx(x.reshape(50, 20).mean(1).std() / np.sqrt(50), rel=0.15)


def test_poisson_and_multinomial_standard_errors_agree():
    x = np.random.default_rng(12).exponential(size=2000)
    se_m = bootstrap_ci(x, resampling="multinomial", n_resamples=2000, random_state=1).standard_error
    se_p = bootstrap_ci(x, resampling="poisson", n_resamples=2000, random_state=1).standard_error
    assert se_p == pytest.approx(se_m, rel=0.05)
    assert se_m == pytest.approx(x.std() / np.sqrt(x.size), rel=0.05)


# ---------------------------------------------------------------- results, validation
def test_result_object_and_reproducibility(skewed):
    r1 = bootstrap_ci(skewed, n_resamples=300, random_state=123)
    r2 = bootstrap_ci(skewed, n_resamples=300, random_state=r1.seed)
    assert r1.ci_low == r2.ci_low and r1.seed == 123
    with pytest.raises(Exception):
        r1.ci_low = 0  # frozen
    assert not r1.bootstrap_distribution.flags.writeable
    f = r1.to_frame()
    assert list(f.columns[:8]) == ["name", "value", "ci_low", "ci_high", "se", "alpha", "method", "n"]
    assert "BootstrapResult" in repr(r1) and "<table" in r1._repr_html_()
    df = pd.DataFrame(np.random.default_rng(0).random((50, 2)), columns=["lr", "rf"])
    assert bootstrap_ci(df, n_resamples=100, random_state=0).to_frame()["name"].tolist() == ["lr", "rf"]
    frame = bootstrap_intervals(skewed, n_resamples=300, random_state=1)
    assert frame["method"].tolist() == ["percentile", "basic", "bca", "studentized", "normal"]
    assert frame.loc[frame.method == "bca", "ci_low"].iloc[0] == pytest.approx(
        bootstrap_ci(skewed, method="bca", n_resamples=300, random_state=1).ci_low)


def test_validation_errors(skewed):
    bad = skewed.copy()
    bad[3] = np.nan
    with pytest.raises(ValidationError, match="first at row 3"):
        bootstrap_ci(bad)
    with pytest.raises(ValidationError, match="method"):
        bootstrap_ci(skewed, method="bcaa")
    with pytest.raises(ValidationError, match="resampling"):
        bootstrap_ci(skewed, statistic=np.median, resampling="poisson")
    with pytest.raises(ValidationError, match="studentized"):
        bootstrap_ci(skewed, statistic=np.median, method="studentized")
    with pytest.raises(ValidationError, match="n_resamples"):
        bootstrap_ci(skewed, n_resamples=1)
    with pytest.raises(ValidationError, match="groups"):
        bootstrap_ci(skewed, groups=np.zeros(3))
    with pytest.raises(ValidationError, match="ratio"):
        bootstrap_ci(np.ones((10, 3)), statistic="ratio")
    with pytest.raises(ValidationError, match="indices"):
        bootstrap_ci(skewed, resampling="indices", indices=np.full((5, skewed.size), skewed.size))


def test_ratio_with_empty_replicate_denominators_is_nan_not_dropped_silently():
    den = np.zeros(40)
    den[0] = 1.0
    num = np.ones(40)
    with pytest.warns(RuntimeWarning, match="undefined"):
        r = bootstrap_ci((num, den), statistic="ratio", n_resamples=200, random_state=0)
    n_nan = int(np.isnan(r.bootstrap_distribution).sum())
    assert n_nan > 0 and r.diagnostics["undefined_replicates"] == n_nan


# ---------------------------------------------------------------- compare_models
def test_compare_models_pairs_probabilities_and_baseline():
    rng = np.random.default_rng(0)
    L = (rng.random((2000, 4)) < [0.10, 0.12, 0.30, 0.105]).astype(float)
    cmp = compare_models(L, names=list("abcd"), n_resamples=1000, random_state=0)
    assert cmp.models["p_best"].sum() == pytest.approx(1.0)
    assert cmp.models.set_index("name").loc["c", "p_best"] == 0.0
    assert len(cmp.differences) == 6
    # Paired difference interval == bootstrap_ci of the difference column with the same seed.
    d = bootstrap_ci(L[:, 0] - L[:, 2], n_resamples=1000, random_state=0)
    row = cmp.differences.query("model == 'a' and versus == 'c'").iloc[0]
    assert row["ci_low"] == pytest.approx(d.ci_low) and row["ci_high"] == pytest.approx(d.ci_high)
    assert bool(row["excludes_zero"])
    base = compare_models(L, baseline="a", names=list("abcd"), method="studentized", n_resamples=500, random_state=1)
    assert base.differences["versus"].eq("a").all() and len(base.differences) == 3
    s = bootstrap_ci(L[:, 1] - L[:, 0], method="studentized", n_resamples=500, random_state=1)
    assert base.differences["ci_low"].iloc[0] == pytest.approx(s.ci_low)
    scores = compare_models(1 - L, higher_is_better=True, n_resamples=300, random_state=0)
    assert scores.best == "model_0" or scores.best == "model_3"
    with pytest.raises(ValidationError, match="baseline"):
        compare_models(L, baseline="zz")


def test_paired_interval_is_narrower_than_unpaired():
    rng = np.random.default_rng(3)
    common = rng.exponential(size=500)
    L = np.column_stack([common + 0.1 * rng.normal(size=500), common + 0.05 + 0.1 * rng.normal(size=500)])
    cmp = compare_models(L, n_resamples=500, random_state=0)
    per = cmp.models["se"].to_numpy()
    assert cmp.differences["se"].iloc[0] < 0.3 * np.sqrt((per**2).sum())


# ---------------------------------------------------------------- model confidence set
def test_mcs_drops_clearly_worse_models_and_keeps_best():
    rng = np.random.default_rng(0)
    L = rng.normal([1.0, 1.02, 1.5, 2.0], 1.0, size=(800, 4))
    for stat in ("max", "R"):
        mcs = model_confidence_set(L, statistic=stat, n_resamples=500, random_state=0)
        assert "model_0" in mcs.included
        assert "model_2" not in mcs.included and "model_3" not in mcs.included
        f = mcs.to_frame()
        assert f["p_value"].max() == 1.0
        # MCS p-values are monotone in elimination order.
        order = f.sort_values("eliminated_step")["p_value"].to_numpy()
        assert np.all(np.diff(order[~np.isnan(f.sort_values('eliminated_step')['eliminated_step'])]) >= 0)


def test_mcs_keeps_all_equal_models_at_about_nominal_rate():
    # Under equal expected losses the whole set should survive with probability >= 1 - alpha
    # (approximately); 150 replicate data sets, alpha = 0.10: expect >= ~0.83 (3.5 MC SE below 0.9).
    rng = np.random.default_rng(1)
    kept = []
    for r in range(150):
        L = rng.exponential(size=(200, 3))
        kept.append(len(model_confidence_set(L, alpha=0.10, n_resamples=300, random_state=r).included) == 3)
    assert np.mean(kept) >= 0.83


@pytest.mark.parametrize("statistic", ["max", "R"])
def test_mcs_keeps_identical_models_together_without_numpy_errors(statistic):
    # identical models cannot be told apart: none is worse, so all stay in the set with p = 1 (this was a
    # refusal, which also lost the result when the identical pair was left after eliminating worse models)
    rng = np.random.default_rng(0)
    L = rng.random((300, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = model_confidence_set(np.c_[L, L], statistic=statistic, random_state=0)
        assert r.included == ("model_0", "model_1") and (r.frame.p_value == 1).all()
        worse = L + 0.3 + 0.05 * rng.random((300, 1))
        r = model_confidence_set(np.c_[L, L, worse], statistic=statistic, random_state=0)
    assert r.included == ("model_0", "model_1")
    assert r.frame.p_value.tolist()[:2] == [1.0, 1.0] and r.frame.p_value.iloc[2] < 0.01


def test_compare_models_refuses_the_transposed_layout_of_prediction_log_losses():
    from workbench.data import PredictionLog

    rng = np.random.default_rng(0)
    log = PredictionLog(rng.dirichlet(np.ones(3), (3, 200)), labels=rng.integers(0, 3, 200))
    with pytest.raises(ValidationError, match=r"\.T"):
        compare_models(log.losses("zero_one"))
    assert len(compare_models(log.losses("zero_one").T).models) == 3


def test_string_group_ids_from_a_pandas_column_are_accepted_and_missing_ids_refused():
    df = pd.DataFrame({"x": np.arange(200.0), "user": [f"u{i % 40}" for i in range(200)]})
    ref = bootstrap_ci(df["x"].to_numpy(), groups=df["user"].to_numpy(str), random_state=0).confidence_interval
    assert bootstrap_ci(df["x"], groups=df["user"], random_state=0).confidence_interval == ref
    assert bootstrap_ci(df["x"], groups=df["user"].astype("category"), random_state=0).confidence_interval == ref
    with pytest.raises(ValidationError, match="row 7"):
        bootstrap_ci(df["x"], groups=df["user"].where(df.index != 7, None))


def test_one_row_or_no_column_is_refused_for_every_statistic_and_boolean_seeds_too():
    for data, statistic in [([1.0], np.mean), ([1.0], "mean"), (np.empty((5, 0)), "mean"), (np.empty((5, 0)), np.mean)]:
        with pytest.raises(ValidationError, match="data"):
            bootstrap_ci(data, statistic)
    with pytest.raises(ValidationError, match="random_state"):
        bootstrap_ci(np.arange(10.0), random_state=True)
    # beyond 64 bits a seed is hashed (stop 30), never wrapped onto another: 2**64 + 5 is not seed 5
    big = bootstrap_ci(np.arange(10.0), random_state=2**64 + 5).bootstrap_distribution
    assert not np.array_equal(big, bootstrap_ci(np.arange(10.0), random_state=5).bootstrap_distribution)


def test_a_named_series_keeps_its_name():
    s = pd.Series(np.arange(10.0), name="clicks")
    assert bootstrap_ci(s, random_state=0).names == ("clicks",)
    assert bootstrap_ci(s.rename(None), random_state=0).names == ("x",)


def test_constant_data_gives_the_point_for_every_method_including_studentized():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("percentile", "basic", "bca", "normal", "studentized"):
            assert bootstrap_ci(np.ones(20), method=method, random_state=0).confidence_interval == (1.0, 1.0)


def test_indices_resampling_without_indices_says_so():
    for call in (lambda: bootstrap_ci(np.arange(10.0), resampling="indices"),
                 lambda: compare_models(np.random.default_rng(0).random((50, 3)), resampling="indices")):
        with pytest.raises(ValidationError, match="must be given"):
            call()


def test_a_callable_without_axis_is_called_per_resample_as_scipy_decides(scipy_rng):
    x = np.random.default_rng(0).normal(size=30)

    def median_no_axis(v):
        return float(np.median(v))

    r = bootstrap_ci(x, median_no_axis, n_resamples=999, random_state=0)
    ref = stats.bootstrap((x,), median_no_axis, vectorized=False, n_resamples=999, method="percentile",
                          **scipy_rng(0))
    assert r.confidence_interval == pytest.approx(tuple(ref.confidence_interval), rel=1e-12)
    assert bootstrap_ci(x, np.median, n_resamples=999, random_state=0).confidence_interval == r.confidence_interval


# ---------------------------------------------------------------- audit: degenerate inputs
def test_studentized_keeps_infinite_t_of_zero_spread_replicates():
    # n = 2: half the resamples repeat one value (se* = 0, theta* != theta, t* = +-inf). Dropping them
    # left only t* = 0 and gave the zero-width interval [1.5, 1.5].
    with pytest.warns(RuntimeWarning, match="studentized interval unbounded"):
        r = bootstrap_ci([1.0, 2.0], method="studentized", n_resamples=200, random_state=0)
    assert r.ci_low == -np.inf and r.ci_high == np.inf


def test_studentized_rare_infinite_t_counts_as_extreme_not_missing():
    from workbench._intervals import studentized_interval

    reps = np.r_[np.linspace(-1, 1, 99), 5.0]
    reps_se = np.r_[np.ones(99), 0.0]          # the one replicate with t* = +inf
    lo, hi = studentized_interval(0.0, 1.0, reps, reps_se, alpha=0.5)
    finite_only = studentized_interval(0.0, 1.0, reps[:99], reps_se[:99], alpha=0.5)
    # the +inf replicate shifts the upper t quantile up (so the lower limit down), as a large t would
    assert lo < finite_only[0] and np.isfinite(lo) and np.isfinite(hi)
    big = studentized_interval(0.0, 1.0, reps, np.r_[np.ones(99), 1e-300], alpha=0.5)
    assert (lo, hi) == pytest.approx(big)


def test_bca_nan_jackknife_value_gives_nan_with_warning_not_zero_acceleration():
    x = np.arange(10.0)

    def stat(a, axis=-1):  # undefined on the leave-one-out sample without the 0
        m = a.mean(axis=axis)
        return np.where((a.shape[-1] < 10) & (m == 5.0), np.nan, m)

    with pytest.warns(RuntimeWarning, match="influence"):
        r = bootstrap_ci(x, stat, method="bca", n_resamples=200, random_state=0)
    assert np.isnan(r.ci_low) and np.isnan(r.ci_high)


def test_bca_infinite_bias_correction_warns():
    x = np.arange(10.0)
    n_unique = lambda a, axis=-1: np.apply_along_axis(lambda r: float(np.unique(r).size), axis, a)  # noqa: E731
    with pytest.warns(RuntimeWarning, match="z0 is infinite"):
        r = bootstrap_ci(x, n_unique, method="bca", n_resamples=200, random_state=0)
    assert np.isnan(r.ci_low)


def test_callable_statistic_nan_on_full_sample_is_an_error():
    with pytest.raises(ValidationError, match="statistic: must be finite on the full sample"):
        bootstrap_ci(np.arange(5.0), lambda a, axis=-1: np.full(a.shape[:-1], np.nan), n_resamples=50, random_state=0)


def test_one_undefined_column_does_not_sink_the_others():
    # skewness of a constant column is NaN: that column's interval is NaN, the others keep theirs
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=30), np.ones(30), rng.normal(size=30)])
    skew = lambda a, axis=-1: stats.skew(a, axis=axis)  # noqa: E731
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r = bootstrap_ci(X, skew, n_resamples=200, random_state=0)
    ours = [str(w.message) for w in rec if "bootstrap:" in str(w.message)]
    # one warning for the undefined column, none claiming the other columns' replicates are undefined
    assert len(ours) == 1 and "1 of 3 data columns" in ours[0], ours
    f = r.to_frame()
    assert f["value"].isna().tolist() == [False, True, False]
    assert np.isfinite(f.loc[[0, 2], ["ci_low", "ci_high", "se"]].to_numpy()).all()
    alone = bootstrap_ci(X[:, [0, 2]], skew, n_resamples=200, random_state=0).to_frame()
    assert np.allclose(f.loc[[0, 2], ["value", "ci_low", "ci_high"]].to_numpy(),
                       alone[["value", "ci_low", "ci_high"]].to_numpy())


def test_callable_statistic_returning_several_values_is_a_validation_error():
    with pytest.raises(ValidationError, match="one number per sample"):
        bootstrap_ci(np.arange(5.0), lambda a: np.array([a.mean(), a.std()]), vectorized=False, n_resamples=50,
                     random_state=0)


def test_undefined_replicates_warn():
    num, den = np.array([1.0, 2, 3]), np.array([0.0, 0, 1])
    with pytest.warns(RuntimeWarning, match="undefined"):
        r = bootstrap_ci((num, den), "ratio", n_resamples=200, random_state=0)
    assert r.diagnostics["undefined_replicates"] > 0
    with pytest.warns(RuntimeWarning, match="undefined"):
        bootstrap_intervals((num, den), "ratio", methods=["percentile"], n_resamples=200, random_state=0)


def test_n_resamples_follows_the_package_integer_rule():
    # a whole-number float is an integer (as check_int accepts elsewhere); same replicates as the int
    x = np.random.default_rng(0).exponential(size=50)
    a = bootstrap_ci(x, n_resamples=200.0, random_state=3)
    b = bootstrap_ci(x, n_resamples=200, random_state=3)
    assert a.n_resamples == 200 and isinstance(a.n_resamples, int)
    np.testing.assert_array_equal(a.bootstrap_distribution, b.bootstrap_distribution)
    assert bootstrap_ci(x, n_resamples=np.float64(2.0), random_state=0).n_resamples == 2
    for bad, rule in ((2.5, "must be an integer, got 2.5"), ("2", "must be an integer, got '2'"),
                      (True, "must be an integer, got True"), (1.0, "must be an integer >= 2, got 1.0"),
                      (float("nan"), "must be an integer, got nan")):
        with pytest.raises(ValidationError, match=rf"n_resamples: {rule}"):
            bootstrap_ci(x, n_resamples=bad, random_state=0)
    with pytest.raises(ValidationError, match="n_resamples: must be an integer"):
        compare_models(np.c_[x, x[::-1]], n_resamples=2.5, random_state=0)


def test_bootstrap_result_html_shows_a_statistic_name_as_written():
    from workbench.resample import bootstrap_ci

    res = bootstrap_ci(np.arange(10.0), lambda x, axis=-1: np.mean(x, axis=axis), n_resamples=50, random_state=0)
    import dataclasses

    html = dataclasses.replace(res, statistic="&lt; mean")._repr_html_()
    assert "interval of the &amp;lt; mean (" in html  # the caption escaped once: displays "&lt; mean", not "< mean"
