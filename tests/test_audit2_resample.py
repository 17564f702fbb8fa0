"""Audit of workbench.resample (second round): adversarial but legitimate inputs, and scale.

Each test pins a finding: a silently wrong number, a raw traceback where a ValidationError naming the
field belongs, or a computation whose memory grew far beyond what it needs (checked with tracemalloc
peaks, never with timings).
"""
from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.resample import (BootstrapSplit, bayesian_correlated_t_test, bootstrap_ci, bootstrap_error,
                                bootstrap_intervals, compare_models, critical_difference, learning_curve_ci,
                                model_confidence_set, ncv_interval, nested_cv, oob_delta_se,
                                paired_difference_interval, repeated_cv, scores_from_cv_results,
                                tango_score_statistic, temporal_scores, wilcoxon_holm_test)


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------------------------------------
# Studentized and BCa intervals at large offsets and extreme magnitudes
# ------------------------------------------------------------------------------------------------
def test_studentized_interval_survives_a_large_offset():
    # E[x^2] - E[x]^2 on 1e8 + N(0, 1) cancelled to 0 in every replicate: a zero-width "95%" interval, silently
    x = np.random.default_rng(0).normal(size=50)
    ref = bootstrap_ci(x, method="studentized", random_state=0)
    for off in (1e8, 1e9):
        r = bootstrap_ci(x + off, method="studentized", random_state=0)
        assert r.ci_low - off == pytest.approx(ref.ci_low, abs=1e-5)
        assert r.ci_high - off == pytest.approx(ref.ci_high, abs=1e-5)


def test_studentized_cluster_and_ratio_intervals_survive_a_large_offset():
    rng = np.random.default_rng(1)
    x, d = rng.normal(size=60), rng.exponential(size=60) + 0.5
    g = np.repeat(np.arange(12), 5)
    ref = bootstrap_ci(x, method="studentized", groups=g, random_state=0)
    r = bootstrap_ci(x + 1e9, method="studentized", groups=g, random_state=0)
    assert (r.ci_low - 1e9, r.ci_high - 1e9) == pytest.approx((ref.ci_low, ref.ci_high), abs=1e-5)
    # a ratio of two columns that both sit near 1e9: the interval has a width, near (theta - ..., theta + ...)
    r = bootstrap_ci((x + 3 + 1e9, d + 1e9), statistic="ratio", method="studentized", random_state=0)
    assert r.ci_high - r.ci_low > 1e-10 and r.ci_low < r.estimate < r.ci_high


@pytest.mark.parametrize("method, scale", [("studentized", 1e-300), ("studentized", 1e200), ("studentized", 1e298),
                                           ("bca", 1e-300), ("bca", 1e150), ("bca", 1e300)])
def test_interval_is_scale_equivariant_at_extreme_magnitudes(method, scale):
    # studentized: squares overflowed (NaN interval at 1e200) or underflowed (a point "interval" at 1e-300);
    # bca: sum U^3 over- or underflowed and the acceleration silently became 0: another interval
    x = np.random.default_rng(2).normal(size=60) if method == "studentized" else \
        np.random.default_rng(4).exponential(size=40)
    ref = bootstrap_ci(x, method=method, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = bootstrap_ci(x * scale, method=method, random_state=0)
    assert (r.ci_low / scale, r.ci_high / scale) == pytest.approx((ref.ci_low, ref.ci_high), rel=1e-9)


@pytest.mark.parametrize("scale", [1e-300, 1e200, 1e298])
def test_studentized_ratio_interval_is_scale_equivariant_at_extreme_magnitudes(scale):
    x = np.random.default_rng(2).normal(size=60)
    d = np.random.default_rng(3).exponential(size=60) + 0.5
    ref = bootstrap_ci((x + 3, d), statistic="ratio", method="studentized", random_state=0)
    r = bootstrap_ci(((x + 3) * scale, d), statistic="ratio", method="studentized", random_state=0)
    assert (r.ci_low / scale, r.ci_high / scale) == pytest.approx((ref.ci_low, ref.ci_high), rel=1e-9)


def test_studentized_se_of_ordinary_data_still_equals_the_direct_computation():
    rng = np.random.default_rng(5)
    x = rng.exponential(size=40) + 1e6
    idx = rng.integers(0, 40, (300, 40))
    res = bootstrap_ci(x, method="studentized", resampling="indices", indices=idx)
    xb = x[idx]
    t = (xb.mean(axis=1) - x.mean()) / (xb.std(axis=1) / np.sqrt(40))
    se = x.std() / np.sqrt(40)
    assert res.ci_low == pytest.approx(x.mean() - np.percentile(t, 97.5) * se, rel=1e-12)
    assert res.ci_high == pytest.approx(x.mean() - np.percentile(t, 2.5) * se, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# bootstrap_ci / bootstrap_intervals arguments
# ------------------------------------------------------------------------------------------------
def test_explicit_indices_need_two_resamples():
    # one row of indices gave a zero-width interval away from the estimate and a NaN se, silently
    x = np.random.default_rng(0).normal(size=20)
    with pytest.raises(ValidationError, match="indices"):
        bootstrap_ci(x, resampling="indices", indices=np.arange(20)[None, :])


def test_bootstrap_intervals_methods_as_one_string_and_empty():
    x = np.random.default_rng(0).normal(size=30)
    one = bootstrap_intervals(x, methods="bca", n_resamples=200, random_state=0)  # was "methods: ... got 'b'"
    assert one["method"].tolist() == ["bca"]
    assert one["ci_low"].iloc[0] == bootstrap_ci(x, method="bca", n_resamples=200, random_state=0).ci_low
    with pytest.raises(ValidationError, match="methods"):  # was pandas' "No objects to concatenate"
        bootstrap_intervals(x, methods=[], n_resamples=200, random_state=0)


def test_a_string_name_is_one_name():
    x = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValidationError, match="names"):  # "ab" labelled the two columns "a" and "b"
        bootstrap_ci(x, names="ab", random_state=0)
    assert bootstrap_ci(x[:, 0], names="loss", random_state=0).names == ("loss",)


# ------------------------------------------------------------------------------------------------
# Scale: the callable jackknife, pairwise differences, T_R, temporal scores, grouped bootstrap splits
# ------------------------------------------------------------------------------------------------
def test_callable_jackknife_memory_is_not_quadratic():
    # the leave-one-out indices came from an (n, n) boolean mask: n^2 bytes (2.5 GB at n = 50,000)
    n = 12_000
    x = np.random.default_rng(0).exponential(size=n)
    _, peak = _peak_bytes(lambda: bootstrap_ci(x, np.mean, method="bca", n_resamples=20, random_state=0))
    assert peak < n * n, peak / 2**20


def test_callable_jackknife_equals_the_direct_leave_one_out():
    from workbench import _intervals

    rng = np.random.default_rng(1)
    x = rng.exponential(size=(37, 2))
    r = bootstrap_ci(x, np.median, method="bca", n_resamples=300, random_state=3)
    jack = np.array([np.median(np.delete(x, i, axis=0), axis=0) for i in range(37)])
    U = 36 * (jack.mean(axis=0) - jack)
    lo, hi = _intervals.bca_interval(np.median(x, axis=0), r.bootstrap_distribution, U, 0.05)
    np.testing.assert_allclose(r.ci_low, lo, rtol=1e-12)
    np.testing.assert_allclose(r.ci_high, hi, rtol=1e-12)


def test_compare_models_without_bca_forms_no_n_by_pairs_array():
    # all pairs of 60 models on 4,000 rows: (n, 1770) influence differences (3 x 57 MB) that only BCa reads
    L = np.random.default_rng(0).random((4000, 60))
    _, peak = _peak_bytes(lambda: compare_models(L, n_resamples=200, random_state=0))
    assert peak < 60 * 2**20, peak / 2**20


@pytest.mark.parametrize("method", ["percentile", "bca", "studentized"])
def test_compare_models_pair_blocks_give_the_one_block_result(method, monkeypatch):
    from workbench.resample import compare as cmp_mod

    rng = np.random.default_rng(1)
    L = rng.random((80, 6)) + np.linspace(0, 0.1, 6)
    whole = compare_models(L, method=method, n_resamples=300, random_state=2)
    monkeypatch.setattr(cmp_mod, "_PAIR_BLOCK_ELEMENTS", 80 * 4)  # blocks of 4 pairs out of 15
    blocks = compare_models(L, method=method, n_resamples=300, random_state=2)
    pd.testing.assert_frame_equal(whole.differences, blocks.differences, rtol=1e-12)
    # and each difference equals bootstrap_ci of the difference column with the same seed
    d = bootstrap_ci(L[:, 4] - L[:, 1], method=method, n_resamples=300, random_state=2)
    row = blocks.differences.query("model == 'model_1' and versus == 'model_4'").iloc[0]
    assert (-row.ci_high, -row.ci_low) == pytest.approx((d.ci_low, d.ci_high), rel=1e-9)


def _mcs_r_reference(L, n_resamples, seed):
    """The per-step T_R elimination as first written: a (B, k, k) array per step."""
    from workbench.resample.bootstrap import _core

    m = L.shape[1]
    core = _core(L, np.arange(m), np.full(m, -1), resampling="multinomial", n_resamples=n_resamples,
                 random_state=seed, indices=None, groups=None, studentize=False)
    zeta = core.reps - core.theta
    alive, pvals, running = list(range(m)), np.full(m, np.nan), 0.0
    while len(alive) > 1:
        idx = np.array(alive)
        Lb, Z = core.theta[idx], zeta[:, idx]
        Zd = Z[:, :, None] - Z[:, None, :]
        var = np.mean(Zd**2, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(np.eye(len(idx), dtype=bool), np.nan, (Lb[:, None] - Lb[None, :]) / np.sqrt(var))
            T = np.nanmax(np.abs(t))
            Tstar = np.nanmax(np.abs(Zd / np.sqrt(var)).reshape(Z.shape[0], -1), axis=1)
        worst = int(np.nanargmax(np.nanmax(t, axis=1)))
        running = max(running, float(np.mean(Tstar >= T)))
        pvals[idx[worst]] = running
        alive.remove(int(idx[worst]))
    pvals[alive[0]] = 1.0
    return pvals


@pytest.mark.parametrize("m", [2, 3, 7, 15])
def test_mcs_t_r_equals_the_per_step_computation(m):
    rng = np.random.default_rng(m)
    L = rng.normal(size=(200, m)) + rng.normal(0, 0.08, m)
    if m == 7:
        L[:, 3] = L[:, 2] + 0.4  # a pair with a zero-variance difference
    got = model_confidence_set(L, statistic="R", n_resamples=400, random_state=5).frame["p_value"].to_numpy()
    np.testing.assert_array_equal(got, _mcs_r_reference(L, 400, 5))


def test_mcs_t_r_memory_does_not_grow_with_b_m_squared():
    # a (B, k, k) array per elimination step: 115 MB for 120 models and B = 1000 (81 s for 200 models)
    L = np.random.default_rng(0).random((300, 120)) + np.linspace(0, 0.05, 120)
    _, peak = _peak_bytes(lambda: model_confidence_set(L, statistic="R", n_resamples=1000, random_state=0))
    assert peak < 40 * 2**20, peak / 2**20


def test_temporal_scores_build_no_points_by_periods_matrix():
    from workbench.data.logs import PredictionLog

    rng = np.random.default_rng(0)
    n, P = 200_000, 100
    y = rng.integers(0, 2, n).astype(float)
    ts = np.sort(rng.integers(0, P, n))
    log = PredictionLog(predictions=y + rng.normal(size=(2, n)), labels=y, timestamp=ts)
    avail = np.array([0, 30])
    scores, peak = _peak_bytes(lambda: temporal_scores(log, avail, loss="squared"))
    assert peak < 60 * 2**20, peak / 2**20  # the one-hot (n, P) matrix alone was 160 MB
    L = log.losses("squared")
    want = pd.DataFrame(L.T).groupby(ts).mean().to_numpy().T.copy()
    want[1, :30] = np.nan
    np.testing.assert_allclose(scores["loss"].to_numpy(), want.ravel(), rtol=1e-12)


def test_grouped_bootstrap_split_equals_the_group_by_group_construction():
    rng = np.random.default_rng(0)
    g = rng.integers(0, 40, 300).astype(str)
    ids, inv = np.unique(g, return_inverse=True)
    members = [np.flatnonzero(inv == k) for k in range(ids.size)]
    draw = np.random.default_rng(7)  # the documented stream: default_rng(seed).integers(0, G, G) per split
    for tr, te in BootstrapSplit(25, random_state=7).split(np.zeros((300, 1)), groups=g):
        counts = np.bincount(draw.integers(0, ids.size, ids.size), minlength=ids.size)
        want_tr = np.concatenate([members[k] for k in np.repeat(np.arange(ids.size), counts)])
        want_te = np.sort(np.concatenate([members[k] for k in np.flatnonzero(counts == 0)] + [np.empty(0, int)]))
        np.testing.assert_array_equal(tr, want_tr)
        np.testing.assert_array_equal(te, want_te)


# ------------------------------------------------------------------------------------------------
# Rank tests, CV tests, McNemar helpers
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k, n, field", [(3, 0, "n_datasets"), (3, -1, "n_datasets"), (2.5, 14, "k"),
                                         (1, 14, "k"), ("3", 14, "k"), (3, 2.5, "n_datasets")])
def test_critical_difference_checks_its_integers(k, n, field):
    # n_datasets=0 was a ZeroDivisionError, -1 a NaN, k=2.5 used 2 in q and 2.5 in the root, k=1 a NaN
    with pytest.raises(ValidationError, match=field):
        critical_difference(k, n)
    assert critical_difference(3.0, 14.0) == critical_difference(3, 14)


def test_wilcoxon_holm_zero_method_is_checked():
    S = np.random.default_rng(0).random((8, 3))
    with pytest.raises(ValidationError, match="zero_method"):  # scipy's bare ValueError
        wilcoxon_holm_test(S, zero_method="exact")


def test_scores_from_cv_results_candidate_is_checked():
    res = {"split0_test_score": [0.1, 0.2], "split1_test_score": [0.3, 0.4]}
    with pytest.raises(ValidationError, match="candidate"):  # IndexError
        scores_from_cv_results(res, 5)
    with pytest.raises(ValidationError, match="candidate"):  # IndexError ("only integers ...")
        scores_from_cv_results(res, "1")
    np.testing.assert_array_equal(scores_from_cv_results(res, 1.0), [0.2, 0.4])
    np.testing.assert_array_equal(scores_from_cv_results(res, -1), [0.2, 0.4])  # numpy's negative index


def test_bayesian_correlated_t_test_numbers_are_not_parsed_from_strings():
    a, b = np.linspace(0.7, 0.8, 10), np.linspace(0.69, 0.78, 10)
    with pytest.raises(ValidationError, match="rope"):
        bayesian_correlated_t_test(a, b, rho=0.1, rope="0.01")
    with pytest.raises(ValidationError, match="rho"):
        bayesian_correlated_t_test(a, b, rho="0.1")
    with pytest.raises(ValidationError, match="rho"):  # a bare TypeError from float()
        bayesian_correlated_t_test(a, b, rho=[0.1])


def test_wald_interval_warns_when_every_pair_is_discordant_one_way():
    # (1, 1) for 7 of 7 pairs favouring A, silently: the Wald SE is 0 there too
    with pytest.warns(RuntimeWarning, match="degenerate"):
        assert paired_difference_interval([[0, 7], [0, 0]], method="wald") == (1.0, 1.0)
    with pytest.warns(RuntimeWarning, match="degenerate"):
        paired_difference_interval([[0, 0], [5, 0]], method="wald")


@pytest.mark.parametrize("args, field", [((3, 1, 0, 0.0), "n"), ((30, 1, 10, 0.0), "n"), (("3", 1, 10, 0.0), "b"),
                                         ((3, 1.5, 10, 0.0), "c"), ((3, 1, 10, 2.0), "delta"),
                                         ((3, 1, 10, np.nan), "delta")])
def test_tango_score_statistic_checks_its_arguments(args, field):
    with pytest.raises(ValidationError, match=field):
        tango_score_statistic(*args)
    assert tango_score_statistic(12, 3, 100, 0.0) == pytest.approx(9 / np.sqrt(15))


# ------------------------------------------------------------------------------------------------
# Cross-validation helpers and the bootstrap error
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_clf():
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] + rng.normal(size=40) > 0).astype(int)
    return DecisionTreeClassifier(max_depth=2, random_state=0), X, y


def test_repeated_cv_and_learning_curve_check_fold_counts(small_clf):
    est, X, y = small_clf
    for kw, field in (({"n_splits": 1}, "n_splits"), ({"n_repeats": 0}, "n_repeats"),
                      ({"n_splits": 2.5}, "n_splits"), ({"n_splits": 100}, "n_splits")):
        with pytest.raises(ValidationError, match=field):  # scikit-learn's bare ValueErrors
            repeated_cv(est, X, y, **{"n_splits": 3, "n_repeats": 2, **kw})
    a = repeated_cv(est, X, y, n_splits=3.0, n_repeats=2.0, random_state=0)  # was "must be of Integral type"
    b = repeated_cv(est, X, y, n_splits=3, n_repeats=2, random_state=0)
    np.testing.assert_array_equal(a.scores, b.scores)
    with pytest.raises(ValidationError, match="n_splits"):
        learning_curve_ci(est, X, y, train_sizes=(0.5, 1.0), n_splits=1, n_repeats=2)


def test_nested_cv_takes_an_integral_float_and_refuses_others(small_clf):
    est, X, y = small_clf
    a = nested_cv(est, X, y, outer_cv=3.0, random_state=0)  # AttributeError: 'float' object has no attribute 'split'
    b = nested_cv(est, X, y, outer_cv=3, random_state=0)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    for bad in (2.5, 1, True, "3"):
        with pytest.raises(ValidationError, match="outer_cv"):
            nested_cv(est, X, y, outer_cv=bad)


@pytest.mark.parametrize("kw, field", [({"n_folds": 3.5}, "n_folds"), ({"n_folds": "4"}, "n_folds"),
                                       ({"n_reps": 2.5}, "n_reps"), ({"bias_reps": -1}, "bias_reps"),
                                       ({"n_folds": 50}, "n_folds")])
def test_ncv_interval_checks_its_integers(small_clf, kw, field):
    # 3.5 folds silently ran 3, "4" and 2.5 were TypeErrors, bias_reps=-1 silently meant no bias correction,
    # 50 folds of 40 rows an error about 0 samples from inside a fit
    est, X, y = small_clf
    with pytest.raises(ValidationError, match=field):
        ncv_interval(est, X, y, **{"n_folds": 3, "n_reps": 2, **kw})


def test_bootstrap_error_checks_n_permutations_and_the_splitter_count(small_clf):
    est, X, y = small_clf
    with pytest.raises(ValidationError, match="n_permutations"):  # NaN no-information score, silently
        bootstrap_error(est, X, y, scoring="accuracy", n_splits=5, n_permutations=0, random_state=0)
    with pytest.raises(ValidationError, match="n_splits"):  # a boolean is not a count of splits
        BootstrapSplit(True)


def test_oob_delta_se_checks_its_inputs():
    counts = np.ones((5, 10))
    with pytest.raises(ValidationError, match="oob_losses"):  # 4 pairs for 5 samples: the 5th counted as 0
        oob_delta_se(counts, [(np.arange(3), np.ones(3))] * 4)
    with pytest.raises(ValidationError, match="oob_losses"):  # IndexError
        oob_delta_se(counts, [(np.arange(30), np.ones(30))] * 5)
    with pytest.raises(ValidationError, match="oob_losses"):  # broadcasting ValueError
        oob_delta_se(counts, [(np.arange(3), np.ones(2))] * 5)
    with pytest.raises(ValidationError, match="oob_losses"):  # mean of an empty slice
        oob_delta_se(counts, [(np.arange(0), np.ones(0))] * 5)
    with pytest.raises(ValidationError, match="counts"):  # ZeroDivisionError
        oob_delta_se(np.ones((5, 1)), [(np.arange(1), np.ones(1))] * 5)
    with pytest.raises(ValidationError, match="counts"):  # unpacking ValueError
        oob_delta_se(np.ones(5), [(np.arange(1), np.ones(1))] * 5)
