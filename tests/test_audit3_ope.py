"""Audit 3 of workbench.ope: colliding policy names, simulate / truth checks, kernels at extreme bandwidths,
the continuous frame's interval column (regression tests: each failed before its fix)."""
import warnings

import numpy as np
import pytest

from workbench._kernels import KERNELS, sample_smoothed, smoothed_density, smoothed_quadrature
from workbench._validation import ValidationError
from workbench.data import ContinuousBanditLog, simulate_bandit, simulate_pricing
from workbench.ope import OPEDiagnosticWarning, UniformPolicy, benchmark_estimators, compare_policies, evaluate_policy
from workbench.ope.continuous import bandwidth_monte_carlo, bandwidth_sweep, evaluate_continuous_policy


@pytest.fixture(scope="module")
def bandit():
    return simulate_bandit(200, n_actions=3, random_state=0)


@pytest.fixture(scope="module")
def pricing():
    return simulate_pricing(300, random_state=0)


# -- compare_policies: the keys name the rows, as text ----------------------------------------------
def test_compare_policies_refuses_keys_that_collide_as_text(bandit):
    log, _ = bandit
    # was two summary rows both named "1" (and a choice that could not say which)
    with pytest.raises(ValidationError, match=r"^policies: keys must be distinct as text.*1 and '1' both read '1'"):
        compare_policies(log, {1: UniformPolicy(), "a": UniformPolicy(), "1": UniformPolicy()}, estimator="ips",
                         n_bootstrap=20)


# -- benchmark_estimators / bandwidth_sweep / bandwidth_monte_carlo: simulate and truth ------------------
def _counting(simulate):
    calls = []

    def sim(seed):
        calls.append(seed)
        return simulate(seed, len(calls))
    return sim, calls


def test_benchmark_estimators_refuses_a_simulate_that_is_not_callable():
    with pytest.raises(ValidationError, match=r"^simulate: must be a callable"):  # was a TypeError
        benchmark_estimators(5, UniformPolicy(), ["ips"], n_replicates=2, n_bootstrap=20)


@pytest.mark.parametrize("bad, message", [
    (lambda log, truth: log, r"pair \(log, truth\), got a BanditLog"),   # was "too many values to unpack"
    (lambda log, truth: (log, truth, 1), r"pair \(log, truth\), got a tuple of 3 items"),
    (lambda log, truth: (log, "0.2"), r"truth '0.2'"),                    # was parsed as 0.2, silently
    (lambda log, truth: (log, None), r"truth None"),
])
def test_benchmark_estimators_checks_what_simulate_returns_before_any_replicate(bad, message):
    evaluated = []

    def policy(log):  # must never be reached: the first simulated (log, truth) is checked up front
        evaluated.append(1)
        return np.full((len(log), 3), 1 / 3)

    sim, calls = _counting(lambda s, k: bad(*simulate_bandit(100, n_actions=3, random_state=s)))
    with pytest.raises(ValidationError, match=r"^simulate: must return .*" + message):
        benchmark_estimators(sim, policy, ["ips"], n_replicates=3, n_bootstrap=20)
    assert len(calls) == 1 and not evaluated


def test_benchmark_estimators_checks_every_replicate_and_draws_each_seed_once():
    # the second replicate's truth is text: refused there too (replicate 0 is checked up front)
    sim, calls = _counting(lambda s, k: (simulate_bandit(100, n_actions=3, random_state=s)[0],
                                         0.5 if k == 1 else "0.5"))
    with pytest.raises(ValidationError, match=r"^simulate: .*got truth '0.5'"):
        benchmark_estimators(sim, UniformPolicy(), ["ips"], n_replicates=3, n_bootstrap=20)
    # a numeric truth is fine, and replicate 0's log drawn up front is the one it uses: simulate is
    # called once per seed, each result is evaluate_policy on simulate(child), as the docstring says
    sim, calls = _counting(lambda s, k: (simulate_bandit(100, n_actions=3, random_state=s)[0], 0.25))
    bench = benchmark_estimators(sim, UniformPolicy(), ["ips"], n_replicates=3, n_bootstrap=20)
    assert len(calls) == 3 and (bench.replicates["truth"] == 0.25).all()
    from workbench._random import seed_key
    for r in (0, 2):
        log = simulate_bandit(100, n_actions=3, random_state=calls[r])[0]
        direct = evaluate_policy(log, UniformPolicy(), ["ips"], n_bootstrap=20, random_state=seed_key(calls[r]),
                                 warn=False)
        assert bench.replicates["value"].iloc[r] == direct["value"].iloc[0]
        assert bench.replicates["ci_low"].iloc[r] == direct["ci_low"].iloc[0]


def test_bandwidth_sweep_refuses_a_truth_without_policy_value(pricing):
    log, truth = pricing
    # was an AttributeError, after the first bandwidth had been evaluated
    with pytest.raises(ValidationError, match=r"^truth: must be None or an object with policy_value"):
        bandwidth_sweep(log, truth.optimal_action(), [0.5, 1.0], truth=5, n_bootstrap=20)


@pytest.mark.parametrize("simulate, target, match", [
    (5, lambda log, t: t.optimal_action(), r"^simulate: must be a callable"),                 # was a TypeError
    (lambda rs: simulate_pricing(100, random_state=rs), 3.0, r"^target: must be a callable"),  # was a TypeError
    (lambda rs: simulate_pricing(100, random_state=rs)[0], lambda log, t: t, r"^simulate: must return a pair"),
    (lambda rs: (simulate_pricing(100, random_state=rs)[0], 0.5), lambda log, t: np.full(len(log), 5.0),
     r"^simulate: .*truth an object with policy_value"),                                       # was AttributeError
])
def test_bandwidth_monte_carlo_checks_simulate_and_target(simulate, target, match):
    with pytest.raises(ValidationError, match=match):
        bandwidth_monte_carlo(simulate, target, [0.5], n_replicates=2)


# -- kernels: a bandwidth far beyond the action range, and a tiny one ---------------------------------
@pytest.mark.parametrize("kernel", KERNELS)
def test_a_huge_bandwidth_gives_the_uniform_limit_not_nan(pricing, kernel):
    log, truth = pricing
    c = truth.optimal_action()
    width = log.a_max - log.a_min
    q = lambda ctx, a: np.asarray(a, dtype=float) ** 2  # noqa: E731  (q(x, a) = a^2: its uniform mean is known)
    kw = dict(kernel=kernel, estimators=["ips", "snips", "dm"], reward_model=q, n_bootstrap=20, warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no numpy division warnings on the way
        huge = evaluate_continuous_policy(log, c, bandwidth=1e100, **kw)  # was NaN for every estimator
    w = 1 / (width * log.density)  # the uniform density's weights
    limit = [np.mean(w * log.reward), np.sum(w * log.reward) / np.sum(w),
             (log.a_max ** 3 - log.a_min ** 3) / (3 * width)]
    assert np.isfinite(huge[["value", "ci_low", "ci_high", "se"]].to_numpy()).all()
    np.testing.assert_allclose(huge["value"], limit, rtol=1e-12)
    # reached smoothly: a bandwidth of 1e6 times the range is already there (the triangular kernel,
    # with its kink at 0, to about 1e-6; the smooth ones to about 1e-12)
    near = evaluate_continuous_policy(log, c, bandwidth=1e6 * width, **kw)
    np.testing.assert_allclose(near["value"], huge["value"], rtol=1e-5)
    np.testing.assert_allclose(near["ci_low"], huge["ci_low"], rtol=1e-5)
    # the simulator's truth and its sampler take the same limit (were NaN, and a point mass at c)
    assert truth.policy_value(c, bandwidth=1e100, kernel=kernel) == pytest.approx(
        truth.policy_value(c, bandwidth=1e6 * width, kernel=kernel), rel=1e-5)
    draws = sample_smoothed(np.full(20_000, 2.0), 1e100, kernel, 1.0, 10.0, np.random.default_rng(0))
    assert draws.mean() == pytest.approx(5.5, abs=4 * 9 / np.sqrt(12 * 20_000))
    assert draws.min() < 1.01 and draws.max() > 9.99


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_tiny_bandwidth_gives_the_unsmoothed_limit(pricing, kernel):
    log, truth = pricing
    c = truth.optimal_action()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was "overflow encountered" from (a - c) / h and u * u
        nodes, wts = smoothed_quadrature(c, 1e-300, kernel, log.a_min, log.a_max)
        dens = smoothed_density(np.array([5.0, 5.0 + 1e-300, 7.0]), 5.0, 1e-300, kernel, 1.0, 10.0)
    np.testing.assert_allclose(wts.sum(axis=1), 1.0, rtol=1e-12)  # was 0: c - h rounded to c
    np.testing.assert_allclose(nodes, np.broadcast_to(c[:, None], nodes.shape), rtol=1e-15)
    assert dens[2] == 0 and np.isfinite(dens).all() and dens[0] > 1e299
    # the smoothed policy's value tends to the deterministic policy's (was 0)
    assert truth.policy_value(c, bandwidth=1e-300, kernel=kernel) == pytest.approx(truth.policy_value(c), rel=1e-12)
    q = lambda ctx, a: np.asarray(a, dtype=float)  # noqa: E731
    with pytest.warns(OPEDiagnosticWarning, match="covers no logged action"):  # right: no action hits c exactly
        dm = evaluate_continuous_policy(log, c, bandwidth=1e-300, kernel=kernel, estimators=["dm"], reward_model=q,
                                        n_bootstrap=20)
    assert dm["value"].iloc[0] == pytest.approx(c.mean(), rel=1e-12)  # was 0


def _hit_log(density0):
    # row 0 plays the target's action exactly, so its kernel weight at h = 1e-300 is K(0) / (h p_b)
    rng = np.random.default_rng(0)
    n = 40
    a = np.round(rng.uniform(0, 10, n))
    a[0] = 5.0
    d = np.full(n, 0.1)
    d[0] = density0
    return ContinuousBanditLog(action=a, reward=rng.random(n), density=d, a_min=0.0, a_max=10.0)


def test_weights_above_1e154_keep_their_diagnostics():
    log = _hit_log(0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = evaluate_continuous_policy(log, np.full(40, 5.0), bandwidth=1e-300, n_bootstrap=20, warn=False)
    hits = log.action == 5.0
    assert out["ess"].iloc[0] == pytest.approx(hits.sum(), rel=1e-12)  # was NaN: w * w overflowed
    assert out["mean_weight"].iloc[0] == pytest.approx(0.75e300 / 0.1 * hits.mean(), rel=1e-12)
    assert out["value"].iloc[1] == pytest.approx(log.reward[hits].mean(), rel=1e-12)  # snips


def test_weights_that_overflow_and_subnormal_bandwidths_are_refused():
    log = _hit_log(1e-10)  # K(0) / (1e-300 * 1e-10) = 7.5e309: beyond the float range
    with pytest.raises(ValidationError, match=r"^weights: .*overflow the float range.*first at row 0"):
        evaluate_continuous_policy(log, np.full(40, 5.0), bandwidth=1e-300, n_bootstrap=20)  # was inf / NaN
    with pytest.raises(ValidationError, match=r"^bandwidth: must be >= 2.225e-308"):
        evaluate_continuous_policy(_hit_log(0.1), np.full(40, 5.0), bandwidth=1e-310, n_bootstrap=20)


# -- the continuous frame names its interval kind as evaluate_policy does --------------------------------
@pytest.mark.parametrize("interval", ["percentile", "normal"])
def test_continuous_frame_has_the_interval_column_of_evaluate_policy(bandit, pricing, interval):
    log, truth = pricing
    out = evaluate_continuous_policy(log, truth.optimal_action(), bandwidth=0.5, n_bootstrap=20, interval=interval,
                                     warn=False)
    disc = evaluate_policy(bandit[0], UniformPolicy(), ["ips"], n_bootstrap=20, interval=interval, warn=False)
    assert out["interval"].tolist() == [interval] * 2 == out["method"].tolist()  # "method" kept
    assert out["interval"].iloc[0] == disc["interval"].iloc[0]
