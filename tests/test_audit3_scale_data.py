"""Audit round 3 of workbench.scale and workbench.data: regression tests.

Each test failed before its fix: a zero-width, infinite or NaN streamed studentized interval, an
overflowing repr, a log no function could evaluate, or a raw numpy error for a bad argument.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench._validation import ValidationError
from workbench.scale import bootstrap_loss_matrix, compare_models_tabular

# -- 1. streamed studentized intervals far from zero ------------------------------------------------

KW = dict(method="studentized", n_resamples=200, random_state=3, resampling="poisson")


def _chunkings(frame):
    n = len(frame)
    return [dict(data=frame), dict(data=frame, chunk_size=7), dict(data=frame, chunk_size=n // 3 + 1),
            dict(data=[frame.iloc[:5], frame.iloc[5:n // 2], frame.iloc[n // 2:]])]


def _stream(fn, spec, **kw):
    spec = dict(spec)
    data = spec.pop("data")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "unbounded interval" warnings were the symptom
        return fn(data, **spec, **kw)


def test_streamed_studentized_at_a_level_of_1e8_matches_memory():
    rng = np.random.default_rng(0)
    n = 1200
    L = pd.DataFrame({"a": 1e8 + rng.normal(size=n), "b": 1e8 + rng.normal(size=n), "c": rng.normal(size=n)})
    mem = wb.resample.bootstrap_ci(L, **KW)
    cm = wb.resample.compare_models(L, baseline="a", **KW)
    width = mem.ci_high - mem.ci_low
    assert (width > 0.05).all()
    dwidth = (cm.differences["ci_high"] - cm.differences["ci_low"]).to_numpy()
    for spec in _chunkings(L):
        out = _stream(bootstrap_loss_matrix, spec, **KW)
        # was a zero-width interval (every replicate's standard error 0) or +-inf. The means of values near
        # 1e8 differ by ~1e-7 with the summation order (in memory too), so the ends are compared to 1e-5 of
        # the width, and to 1e-9 relative
        np.testing.assert_allclose(out.ci_low, mem.ci_low, rtol=1e-9)
        np.testing.assert_allclose(out.ci_high - out.ci_low, width, rtol=1e-5)
        cs = _stream(compare_models_tabular, spec, baseline="a", **KW)
        pd.testing.assert_frame_equal(cs.models, cm.models, rtol=1e-9)
        # b - a: values near 0 (exact differences); c - a: near -1e8 (was +-inf)
        pd.testing.assert_frame_equal(cs.differences, cm.differences, rtol=1e-9)
        np.testing.assert_allclose((cs.differences["ci_high"] - cs.differences["ci_low"]).to_numpy(), dwidth,
                                   rtol=1e-5)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_streamed_studentized_huge_and_tiny_data_equal_memory_for_any_chunking(scale):
    rng = np.random.default_rng(1)
    n = 600
    a = 1 + rng.normal(size=n)
    a[0] = 60.0  # an outlying first row: the streamed moments must not depend on where the pass starts
    L = pd.DataFrame({"a": scale * a, "b": scale * rng.exponential(size=n), "c": scale * (rng.random(n) < 0.3)})
    mem = wb.resample.bootstrap_ci(L, **KW)
    cm = wb.resample.compare_models(L, **KW)  # all pairs
    assert np.isfinite(mem.ci_low).all() and (mem.ci_high > mem.ci_low).all()
    # one row per chunk too: the chunks' moments are merged 600 times
    for spec in [*_chunkings(L), dict(data=L, chunk_size=1)]:
        out = _stream(bootstrap_loss_matrix, spec, **KW)  # squares overflowed (NaN) or underflowed (width 0)
        np.testing.assert_allclose(out.ci_low, mem.ci_low, rtol=1e-9)
        np.testing.assert_allclose(out.ci_high, mem.ci_high, rtol=1e-9)
        cs = _stream(compare_models_tabular, spec, **KW)
        pd.testing.assert_frame_equal(cs.models, cm.models, rtol=1e-9, atol=0)
        pd.testing.assert_frame_equal(cs.differences, cm.differences, rtol=1e-9, atol=0)


# -- 2. summaries of values near 1e308 ----------------------------------------------------------------

def _no_warning(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "overflow encountered in reduce"
        return fn()


def test_log_reprs_show_a_finite_mean_for_rewards_near_1e308():
    from workbench.data.continuous_log import ContinuousBanditLog

    log = wb.data.BanditLog(action=[0, 1, 0], reward=[1e308, 1.5e308, 1e308], propensity=[0.5, 0.5, 0.5],
                            n_actions=2)
    assert "reward mean 1.167e+308" in _no_warning(lambda: repr(log))  # was "reward mean inf"
    assert _no_warning(log.summary)["reward mean"] == pytest.approx(1e308 * (3.5 / 3), rel=1e-15)
    assert "inf" not in _no_warning(log._repr_html_)
    clog = ContinuousBanditLog(action=[0.1, 0.2], reward=[1.7e308, 1.7e308], density=[1.0, 1.0], a_min=0, a_max=1)
    assert "reward mean 1.7e+308" in _no_warning(lambda: repr(clog))
    _no_warning(clog._repr_html_)
    # ordinary rewards: the same mean, bit for bit
    small = wb.data.BanditLog(action=[0, 1, 0], reward=[0.1, 0.7, 0.3], propensity=[0.5] * 3, n_actions=2)
    assert small.summary()["reward mean"] == float(np.mean([0.1, 0.7, 0.3]))


def test_routing_log_and_truth_reprs_near_1e308():
    from workbench.data.simulate import BanditTruth
    from workbench.data.simulate_routing import RoutingLog, RoutingTruth

    r, _ = wb.data.simulate_routing(20, random_state=0)
    big = RoutingLog(r.prompts, r.context, r.action, r.propensity, r.behavior_dist, np.full(20, 1e308),
                     np.full(20, 1.7e308), r.output_tokens, r.model_names, r.feature_names)
    # was inf with a warning (and .3f then printed inf; now .4g, not a 309-digit number)
    assert "mean quality 1e+308, mean cost 1.7e+308 cents" in _no_warning(lambda: repr(big))
    assert _no_warning(big.summary)["cost mean (cents)"] == pytest.approx(1.7e308, rel=1e-15)
    _no_warning(big._repr_html_)
    assert "behavior value 1.5e+308" in _no_warning(lambda: repr(BanditTruth(np.full((4, 2), 1.5e308),
                                                                             np.full((4, 2), 0.5),
                                                                             "continuous")))
    rt = RoutingTruth(np.full((4, 2), 1.5e308), np.full((4, 2), 1e308), np.full((4, 2), 0.5), ("a", "b"))
    assert "behavior quality 1.5e+308, behavior cost 1e+308 cents" in _no_warning(lambda: repr(rt))


# -- 3. a PredictionLog without models or points ------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(probs=np.full((0, 5, 3), 1 / 3)), dict(probs=np.full((2, 0, 3), 1 / 3)),
                                dict(probs=np.full((0, 0, 2), 0.5)), dict(predictions=np.zeros((0, 4))),
                                dict(predictions=np.zeros((3, 0)))])
def test_prediction_log_refuses_no_model_or_no_point(kw):
    # was accepted; select_model then raised an IndexError, temporal_scores numpy's "need at least one
    # array to stack", estimate_risk "budget must be in [1, 0]"
    field = next(iter(kw))
    with pytest.raises(ValidationError, match=f"{field}: needs at least one model and one point"):
        wb.data.PredictionLog(**kw)


def test_prediction_log_empty_subsets_are_refused_by_name():
    log = wb.data.PredictionLog(np.full((2, 4, 2), 0.5), labels=[0, 1, 0, 1])
    with pytest.raises(ValidationError, match="index: selects no point"):
        log.subset_points(np.zeros(4, bool))
    with pytest.raises(ValidationError, match="index: selects no model"):
        log.subset_models([])
    assert log.subset_points([1, 2]).n_points == 2 and log.subset_models([1]).model_names == ("model_1",)


# -- 4. simulators' public methods ------------------------------------------------------------------

@pytest.fixture(scope="module")
def pricing():
    return wb.data.simulate_pricing(30, random_state=0)[1]


@pytest.mark.parametrize("wtp", ["a", np.array(["a", "b"]), np.ones(3) * 1j, np.array([1.0, np.nan])])
def test_optimal_price_checks_the_willingness_to_pay(pricing, wtp):
    # was numpy's "could not convert string to float", a ComplexWarning, or the price a_min for NaN, silently
    with pytest.raises(ValidationError, match="wtp"):
        pricing.problem.optimal_price(wtp)


@pytest.mark.parametrize("logging", ["gaussian", "capped-igw", "uniform"])
@pytest.mark.parametrize("action, match", [("a", "action: must be 1-D or 2-D"),
                                           (np.array(["a"] * 30), "action: must be numeric"),
                                           (np.ones((30, 2, 2)), "1-D or 2-D"),
                                           (np.ones(3), "one row per selected log row \\(30\\)"),
                                           (np.zeros(0), "one row per selected log row"),
                                           (np.ones(30) * 1j, "real numbers"), (np.full(30, np.nan), "finite")])
def test_logger_density_checks_its_action(logging, action, match):
    truth = wb.data.simulate_pricing(30, logging=logging, logging_bandwidth=2.0, random_state=0)[1]
    # was numpy's broadcast / conversion errors, a ComplexWarning, or NaN densities (uniform: 1/L for a string
    # shape); documented on ContinuousTruth as the logger's public interface
    with pytest.raises(ValidationError, match=match):
        truth.logger.density(action)


def test_logger_density_rows_and_values_unchanged():
    log, truth = wb.data.simulate_pricing(30, logging="capped-igw", logging_bandwidth=2.0, random_state=0)
    np.testing.assert_array_equal(truth.logger.density(log.action), log.density)
    np.testing.assert_array_equal(truth.logger.density(log.action[5:9], rows=slice(5, 9)), log.density[5:9])
    with pytest.raises(ValidationError, match="one row per selected log row \\(4\\)"):
        truth.logger.density(log.action, rows=slice(5, 9))  # was a broadcast error
    with pytest.raises(ValidationError, match="rows: must be a slice"):
        truth.logger.density(log.action[:2], rows=[0, 1])


@pytest.mark.parametrize("reward", [np.array(["quality"] * 3), np.ones(3)])
def test_routing_bandit_log_reward_must_be_a_name(reward):
    log, _ = wb.data.simulate_routing(20, random_state=0)
    # an array was numpy's "truth value of an array is ambiguous"
    with pytest.raises(ValidationError, match="reward: must be one of 'tradeoff', 'quality', 'cost'"):
        log.bandit_log(0.1, reward=reward)
