"""Audit 3, the engine: replicate sums near the float limit, subnormal propensities, tiny means.

Scaling data by a power of two is exact in floating point, so a method that handles large or tiny data
correctly gives exactly (or, through a numerical derivative, nearly) the ordinary result times that power.
"""
import warnings

import numpy as np
import pytest

from workbench._engine import ReplicateAccumulator, Resampling, influence_values
from workbench._validation import ValidationError
from workbench.data import BanditLog
from workbench.ope import bernstein_interval, evaluate_policy, weight_diagnostics
from workbench.resample import bootstrap_ci, compare_models

BIG = 2.0**1018   # terms up to 1.5 * 4 * BIG = 1.5 * 2**1020 ~ 1.7e307: replicate sums overflowed
TINY = 2.0**-1000  # ~ 9e-302


def _mixed(n=240, seed=0):
    """Values of both signs in +-[0.5, 1.5] (their sums cancel: a mean well inside the float range)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.5, 1.0, -1.0) * rng.uniform(0.5, 1.5, n)


def _strict():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")  # numpy's overflow / invalid warnings were part of the failure
    return ctx


# -- 1. replicate sums near the float limit ---------------------------------------------------------------
@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
@pytest.mark.parametrize("method", ["percentile", "basic", "bca", "studentized", "normal"])
@pytest.mark.parametrize("grouped", [False, True])
def test_bootstrap_ci_of_values_near_1e307_is_the_ordinary_result_scaled(resampling, method, grouped):
    x = _mixed()
    c = 4 * BIG
    kw = dict(method=method, n_resamples=200, random_state=1, resampling=resampling,
              groups=np.arange(x.size) // 3 if grouped else None)
    ref = bootstrap_ci(x, **kw)
    ctx = _strict()
    try:
        big = bootstrap_ci(x * c, **kw)  # was -inf / NaN, with numpy overflow warnings
    finally:
        ctx.__exit__(None, None, None)
    for f in ("estimate", "ci_low", "ci_high", "standard_error"):
        assert np.isfinite(getattr(big, f)), f
        np.testing.assert_allclose(getattr(big, f), c * getattr(ref, f), rtol=1e-13, err_msg=f)
    np.testing.assert_allclose(big.bootstrap_distribution, c * ref.bootstrap_distribution, rtol=1e-13)


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_compare_models_near_1e307_is_the_ordinary_result_scaled(resampling):
    L = np.column_stack([_mixed(seed=0), _mixed(seed=1), 0.5 * _mixed(seed=2)])
    c = 4 * BIG
    kw = dict(n_resamples=200, random_state=0, resampling=resampling, groups=np.arange(L.shape[0]) // 4)
    ref = compare_models(L, **kw)
    ctx = _strict()
    try:
        big = compare_models(L * c, **kw)
    finally:
        ctx.__exit__(None, None, None)
    for col in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(big.models[col], c * ref.models[col], rtol=1e-13)
    for col in ("difference", "ci_low", "ci_high"):
        np.testing.assert_allclose(big.differences[col], c * ref.differences[col], rtol=1e-13)
    assert big.best == ref.best
    np.testing.assert_array_equal(big.models["p_best"], ref.models["p_best"])


def _log(n=300, reward=None, unit=True, seed=0):
    rng = np.random.default_rng(seed)
    action = rng.integers(0, 3, n)
    prop = rng.uniform(0.25, 1.0, n)  # weights 1/3 / p in (1/3, 4/3]
    reward = _mixed(n, seed) if reward is None else reward
    return BanditLog(action=action, reward=reward, propensity=prop, context=rng.normal(size=(n, 2)),
                     unit_id=np.arange(n) // 3 if unit else None)


@pytest.mark.parametrize("resampling", ["poisson", "multinomial"])
@pytest.mark.parametrize("interval", ["percentile", "normal", "bca"])
@pytest.mark.parametrize("unit", [False, True])
def test_evaluate_policy_near_1e307_is_the_ordinary_result_scaled(resampling, interval, unit):
    c = 2.0**1021  # ips terms up to 4/3 * 1.5 * c = 2**1022, dr terms up to ~4.4 * c = 1.1 * 2**1023
    log = _log(unit=unit)
    big_log = _log(reward=log.reward * c, unit=unit)
    pe = np.full((len(log), 3), 1 / 3)
    q = np.random.default_rng(5).uniform(-1, 1, (len(log), 3))
    kw = dict(estimators=["ips", "snips", "dr", "dm"], n_bootstrap=200, interval=interval, resampling=resampling,
              warn=False)
    ref = evaluate_policy(log, pe, reward_model=q, **kw)
    ctx = _strict()
    try:
        big = evaluate_policy(big_log, pe, reward_model=q * c, **kw)
    finally:
        ctx.__exit__(None, None, None)
    for col in ("value", "ci_low", "ci_high", "se"):
        assert np.isfinite(big[col]).all(), col
        # bca: the acceleration's gradient is numerical; the rest scales exactly
        np.testing.assert_allclose(big[col], c * ref[col], rtol=1e-9 if interval == "bca" else 1e-13, err_msg=col)


def test_bca_of_evaluate_policy_is_unchanged_by_a_scale_that_overflowed_u_cubed():
    # terms near 1e200 sum fine, but BCa's U^3 overflowed: the acceleration silently became 0
    c = 2.0**700
    log = _log(unit=False)
    pe = np.full((len(log), 3), 1 / 3)
    kw = dict(estimators=["ips", "snips"], n_bootstrap=300, interval="bca", warn=False)
    ref = evaluate_policy(log, pe, **kw)
    ctx = _strict()
    try:
        big = evaluate_policy(_log(reward=log.reward * c, unit=False), pe, **kw)
    finally:
        ctx.__exit__(None, None, None)
    np.testing.assert_allclose(big[["ci_low", "ci_high"]], c * ref[["ci_low", "ci_high"]], rtol=1e-12)


def test_streamed_chunks_and_merges_across_scales_match_one_pass():
    rng = np.random.default_rng(3)
    x = np.column_stack([_mixed(900, 4), rng.normal(size=900)])  # column 1 stays ordinary
    x[600:, 0] *= 4 * BIG  # the last chunk alone reaches the float limit
    rs = Resampling.make(64, "poisson", 7)
    whole = ReplicateAccumulator(2, rs).add(x)
    ctx = _strict()
    try:
        chunked = ReplicateAccumulator(2, rs).add(x[:300]).add(x[300:600], ids=np.arange(300, 600))
        merged = chunked.merge(ReplicateAccumulator(2, rs).add(x[600:], ids=np.arange(600, 900)))
        other_way = ReplicateAccumulator(2, rs).add(x[600:], ids=np.arange(600, 900)).merge(
            ReplicateAccumulator(2, rs).add(x[:600]))
    finally:
        ctx.__exit__(None, None, None)
    for acc in (merged, other_way):
        assert np.isfinite(acc.replicate_means).all()
        np.testing.assert_allclose(acc.means, whole.means, rtol=1e-12)
        np.testing.assert_allclose(acc.replicate_means, whole.replicate_means, rtol=1e-10)
    # the ordinary column's replicates are summed exactly as on its own (not scaled with its neighbour)
    alone = ReplicateAccumulator(1, rs).add(x[:, 1:])
    np.testing.assert_array_equal(whole.replicate_means[:, 1], alone.replicate_means[:, 0])


def test_a_nan_column_does_not_stop_another_from_being_scaled():
    x = np.column_stack([_mixed(200) * 4 * BIG, np.r_[np.nan, np.ones(199)]])
    with np.errstate(invalid="ignore"):
        acc = ReplicateAccumulator(2, Resampling.make(20, "poisson", 0)).add(x)
    assert np.isfinite(acc.means[0]) and np.isfinite(acc.replicate_means[:, 0]).all()
    np.testing.assert_allclose(acc.means[0], np.mean(x[:, 0] / BIG) * BIG, rtol=1e-13)
    assert np.isnan(acc.means[1])  # the NaN column stays NaN (the callers report it)


# -- 2. subnormal propensities -----------------------------------------------------------------------------
def test_a_subnormal_propensity_that_overflows_the_weight_gives_only_the_validation_error():
    log = _log(unit=False)
    prop = np.array(log.propensity)
    prop[7] = 1e-320
    bad = BanditLog(action=log.action, reward=log.reward, propensity=prop, context=log.context)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "overflow encountered in divide" came first
        with pytest.raises(ValidationError, match=r"^weights: must be finite.*overflows.*1 of 300 rows.*first at "
                                                  r"row 7 \(value 1e-320\)"):
            evaluate_policy(bad, np.full((300, 3), 1 / 3), estimators=["ips"], n_bootstrap=20)
        # a subnormal propensity whose weight is finite (the target is as unlikely) is legal and works quietly
        pe = np.full((300, 3), 1 / 3)
        a = int(log.action[7])
        pe[7] = 0.5
        pe[7, a] = 1e-310
        pe[7, (a + 1) % 3] = 0.5 - 1e-310
        out = evaluate_policy(bad, pe, estimators=["ips", "snips"], n_bootstrap=50, interval="bca", warn=False)
    assert np.isfinite(out[["value", "ci_low", "ci_high", "se", "ess", "mean_weight"]].to_numpy()).all()
    assert out["max_weight"].iloc[0] == pytest.approx(1e-310 / 1e-320, rel=1e-3)


# -- 3. tiny means, huge weights, bounds ---------------------------------------------------------------------
def test_influence_values_of_a_ratio_of_tiny_means_are_those_of_ordinary_ones():
    rng = np.random.default_rng(0)
    w = rng.exponential(size=200)
    T = np.column_stack([w * rng.random(200), w])

    def ratio(m):
        return m[..., 0] / m[..., 1]

    ref = influence_values(T, T.mean(0), ratio)
    for c in (TINY, 1e-10):  # the fixed step 1e-9 exceeded the denominator: the gradient was garbage
        np.testing.assert_allclose(influence_values(T * c, (T * c).mean(0), ratio), ref, rtol=1e-6)


def test_snips_bca_with_tiny_weights_is_that_of_ordinary_weights():
    rng = np.random.default_rng(2)
    n = 400
    prop = rng.uniform(0.2, 1.0, n)
    q = rng.uniform(0.1, 1.0, n)
    reward = (rng.random(n) < 0.3).astype(float)
    log = BanditLog(action=np.zeros(n, int), reward=reward, propensity=prop, n_actions=2)

    def target(c):  # the logged action gets c * q: weights c * q / p; snips does not depend on c
        return np.column_stack([c * q, 1 - c * q])

    kw = dict(estimators=["snips"], n_bootstrap=400, interval="bca", warn=False)
    ref = evaluate_policy(log, target(0.5), **kw)
    tiny = evaluate_policy(log, target(TINY), **kw)
    np.testing.assert_allclose(tiny[["value", "ci_low", "ci_high"]], ref[["value", "ci_low", "ci_high"]], rtol=1e-6)


@pytest.mark.parametrize("c", [2.0**-700, 2.0**-1000, 2.0**520, 2.0**1000])
def test_bernstein_interval_is_scale_free(c):
    t = np.random.default_rng(0).uniform(0, 1, 1000)
    lo, hi = bernstein_interval(t, 0.0, 1.0, 0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "overflow encountered in square" near 1e160
        # the variance underflowed to 0 (too narrow an interval) or overflowed to inf (a vacuous one)
        assert bernstein_interval(t * c, 0.0, c, 0.05) == (lo * c, hi * c)


def test_bernstein_refuses_terms_far_outside_tiny_bounds():
    with pytest.raises(ValidationError, match=r"^terms: must lie in \[low, high\].*first at row 1"):
        bernstein_interval(np.array([0.5e-300, 1e-250, 0.0]), 0.0, 1e-300, 0.05)  # the slack was 1e-12 absolute


def test_weight_diagnostics_mean_weight_near_the_float_limit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = weight_diagnostics(np.full(40, 1e307))  # w.mean() overflowed to inf
    assert d["mean_weight"] == pytest.approx(1e307, rel=1e-15) and d["ess"] == pytest.approx(40.0)


def test_a_few_weights_near_1e153_give_the_effective_sample_size_and_its_warning():
    # (sum w)^2 overflowed while sum w^2 did not: ess was inf, and the "handful of rows" warning was missing
    rng = np.random.default_rng(0)
    n = 500
    prop = rng.uniform(0.2, 1, n)
    prop[:5] = 1e-154  # weights 1/3 / 1e-154 = 3.3e153
    log = BanditLog(action=rng.integers(0, 3, n), reward=rng.random(n), propensity=prop,
                    context=rng.normal(size=(n, 2)))
    w = np.r_[np.full(5, 3.3e153), np.ones(495)]
    assert weight_diagnostics(w)["ess"] == pytest.approx(5.0, rel=1e-12)
    with pytest.warns(UserWarning, match=r"effective sample size of the weights is 5 of 500 rows"):
        out = evaluate_policy(log, np.full((n, 3), 1 / 3), estimators=["ips"], n_bootstrap=50)
    assert out["ess"].iloc[0] == pytest.approx(5.0, rel=1e-9)


# -- 4. the streamed passes near the float limit ------------------------------------------------------------
@pytest.mark.parametrize("method", ["studentized", "bca", "percentile"])
def test_streamed_interval_near_1e307_is_the_ordinary_result_scaled(method):
    # studentized: the pass copied the losses' replicate sums out of its accumulator in the data's units:
    # sums beyond the float range became inf, and every interval NaN (in memory it was finite).
    # bca: the streamed co-moments squared and cubed unscaled terms: past ~1e103 they overflowed, the
    # acceleration came out wrong and the interval was off in the third digit (-0.21205 for -0.21113).
    import pandas as pd

    from workbench.scale import compare_models_tabular

    c = 4 * BIG
    L = np.column_stack([_mixed(seed=0), _mixed(seed=1), 0.5 * _mixed(seed=2)])

    def chunks(scale):
        frame = pd.DataFrame(L * scale, columns=["a", "b", "c"])
        return [frame.iloc[i:i + 80] for i in range(0, len(frame), 80)]

    kw = dict(method=method, n_resamples=200, random_state=1, resampling="poisson")
    ref = bootstrap_ci(chunks(1.0), **kw)
    ref_cmp = compare_models_tabular(chunks(1.0), **kw)
    ctx = _strict()
    try:
        big = bootstrap_ci(chunks(c), **kw)
        big_cmp = compare_models_tabular(chunks(c), **kw)
    finally:
        ctx.__exit__(None, None, None)
    for f in ("estimate", "ci_low", "ci_high", "standard_error"):
        np.testing.assert_allclose(getattr(big, f), c * getattr(ref, f), rtol=1e-13, err_msg=f)
    for col in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(big_cmp.models[col], c * ref_cmp.models[col], rtol=1e-13, err_msg=col)
    for col in ("difference", "ci_low", "ci_high"):
        np.testing.assert_allclose(big_cmp.differences[col], c * ref_cmp.differences[col], rtol=1e-13, err_msg=col)


def test_streamed_bca_of_evaluate_tabular_near_1e307_is_the_ordinary_result_scaled():
    import pandas as pd

    from workbench.scale import evaluate_tabular

    c = 2.0**1021
    log = _log(unit=False)

    def frame(scale):
        df = pd.DataFrame({"action": log.action, "reward": log.reward * scale, "propensity": log.propensity})
        for j in range(3):
            df[f"pi_{j}"] = 1 / 3
        return [df.iloc[i:i + 70] for i in range(0, len(df), 70)]

    kw = dict(estimators=["ips", "snips"], n_bootstrap=200, interval="bca", warn=False)
    ref = evaluate_tabular(frame(1.0), ["pi_0", "pi_1", "pi_2"], **kw)
    ctx = _strict()
    try:
        big = evaluate_tabular(frame(c), ["pi_0", "pi_1", "pi_2"], **kw)
    finally:
        ctx.__exit__(None, None, None)
    for col in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(big[col], c * ref[col], rtol=1e-9, err_msg=col)


def test_co_moments_of_columns_of_very_different_sizes_merge_exactly():
    # per-column units: one column near 1e300, one near 1e-300, merged from blocks of different maxima
    from workbench.scale import CoMoments
    from workbench.scale.losses import PairMoments

    rng = np.random.default_rng(3)
    x = rng.exponential(size=(300, 2)) * np.array([1.0, -1.0])
    scales = np.array([2.0**990, 2.0**-990])
    for cls in (CoMoments, PairMoments):
        ref = cls.of(x)
        merged = cls(2)
        for a, b in ((0, 7), (7, 150), (150, 300)):
            merged = merged.merge(cls.of(x[a:b] * scales))
        assert merged.n == 300
        np.testing.assert_allclose(merged.mean, ref.mean * scales, rtol=1e-13)
        for g in ([1.0, 0.0], [0.0, 2.0**500], [2.0**-990, -(2.0**990)]):
            g = np.array(g)
            # the acceleration of U = g . t in the big units equals that of U = (g * scales) . t in the small
            np.testing.assert_allclose(merged.acceleration(g), ref.acceleration(g * scales), rtol=1e-10)
        np.testing.assert_allclose(merged.m2[1, 1], ref.m2[1, 1] * scales[1] ** 2, rtol=1e-12)


def test_weights_from_2_to_the_1023_do_not_overflow_the_diagnostics():
    # weight_sums scaled by 2**(exponent of the largest weight): 2**1024 is inf, an OverflowError for
    # propensities near 1e-308 (weights ~5e307)
    rng = np.random.default_rng(0)
    n = 200
    tiny = rng.random(n) < 0.1
    action = np.where(tiny, 0, rng.integers(0, 2, n))
    log = BanditLog(action=action, reward=rng.random(n), propensity=np.where(tiny, 1e-308, 0.5))
    target = np.tile([1.0, 0.0], (n, 1))  # weight 1e308 >= 2**1023 on the tiny-propensity rows
    out = evaluate_policy(log, target, estimators=["ips", "snips"], n_bootstrap=50, warn=False)
    assert out["ess"].tolist() == pytest.approx([tiny.sum()] * 2, rel=1e-12)
    assert np.isfinite(out["ess_terms"]).all()
