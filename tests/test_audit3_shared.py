"""Shared-module follow-ups of the input/scale audit (workbench._intervals)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from workbench.resample import bootstrap_ci


@pytest.mark.parametrize("value", [0.3, 0.1, -7.7, 1e8 + 0.3, 0.0])
def test_bca_of_a_constant_sample_is_the_point_not_nan(value):
    # replicate means of 200 copies of 0.3 differ from their mean in the last bits, all on one side:
    # z0 was infinite and the interval NaN (with a warning), while 0.1 gave the point
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lo, hi = bootstrap_ci(np.full(200, value), method="bca", random_state=0).confidence_interval
    assert lo == pytest.approx(value, rel=1e-14, abs=1e-300) and hi == pytest.approx(value, rel=1e-14, abs=1e-300)


def test_bca_ties_rule_leaves_ordinary_intervals_unchanged():
    x = np.random.default_rng(0).exponential(size=50)
    # the value before the ties rule (same seed, same replicates)
    assert bootstrap_ci(x, method="bca", random_state=0).confidence_interval == pytest.approx(
        (0.8576160808683041, 1.5053956713398529), rel=1e-12)


@pytest.mark.parametrize("value", [0.3, 1e8 + 0.3, 0.123456789])
def test_streamed_bca_uses_the_same_ties_rule_as_in_memory(value):
    import pandas as pd

    from workbench.scale import bootstrap_loss_matrix

    frame = pd.DataFrame({"a": np.full(200, value), "b": np.random.default_rng(1).random(200)})
    chunks = [frame.iloc[:70], frame.iloc[70:]]
    streamed = bootstrap_loss_matrix(chunks, ["a", "b"], method="bca", random_state=3)
    memory = bootstrap_ci(frame, method="bca", resampling="poisson", random_state=3)
    lo_s, hi_s = streamed.confidence_interval
    lo_m, hi_m = memory.confidence_interval
    assert np.isfinite(lo_s).all() and np.isfinite(hi_s).all()  # column a was NaN streamed
    np.testing.assert_allclose(lo_s, lo_m, rtol=1e-12)
    np.testing.assert_allclose(hi_s, hi_m, rtol=1e-12)


def test_check_choice_and_check_names_refuse_arrays_and_scalars_by_name():
    from workbench import ValidationError
    from workbench.ope import evaluate_policy
    from workbench.data import simulate_bandit

    log, _ = simulate_bandit(50, n_actions=2, random_state=0)
    # an array as an option was numpy's "truth value of an array is ambiguous", a list a bare TypeError
    with pytest.raises(ValidationError, match=r"^interval: must be one of"):
        evaluate_policy(log, np.full((50, 2), 0.5), ["ips"], interval=np.array(["bca", "normal"]), n_bootstrap=20)
    with pytest.raises(ValidationError, match=r"^method: must be one of"):
        bootstrap_ci(np.arange(5.0), method=["bca"])
    # names=5 was "TypeError: 'int' object is not iterable"
    with pytest.raises(ValidationError, match=r"^names: must be a sequence of 2 names, got 5"):
        bootstrap_ci(np.ones((5, 2)), names=5)


def test_continuous_bca_acceleration_does_not_vanish_for_huge_rewards():
    # U^3 overflowed for terms beyond ~1e100 and the acceleration silently became 0: the interval of
    # rewards scaled by 1e120 must be the interval of the unscaled rewards, scaled
    from dataclasses import replace

    from workbench.data import simulate_pricing
    from workbench.ope import evaluate_continuous_policy

    log, _ = simulate_pricing(400, random_state=0)
    target = np.full(len(log), 5.0)
    kw = dict(bandwidth=1.0, estimators=["ips"], interval="bca", n_bootstrap=200, random_state=0, warn=False)
    small = evaluate_continuous_policy(log, target, **kw).iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = evaluate_continuous_policy(replace(log, reward=log.reward * 1e120), target, **kw).iloc[0]
    assert big["ci_low"] == pytest.approx(small["ci_low"] * 1e120, rel=1e-9)
    assert big["ci_high"] == pytest.approx(small["ci_high"] * 1e120, rel=1e-9)


def _no_click_log():
    from workbench.data import BanditLog

    rng = np.random.default_rng(0)
    n, k = 400, 4
    action = rng.integers(0, k, n)
    reward = ((rng.random(n) < 0.2) & (action != 0)).astype(float)  # action 0 never rewarded
    log = BanditLog(action=action, reward=reward, propensity=np.full(n, 1 / k), n_actions=k)
    target = np.zeros((n, k))
    target[:, 0] = 1.0
    return log, target


@pytest.mark.parametrize("interval", ["percentile", "bca", "normal"])
def test_a_zero_width_bootstrap_interval_warns_instead_of_reading_as_certainty(interval):
    from workbench.ope import OPEDiagnosticWarning, evaluate_policy

    log, target = _no_click_log()
    # ips 0 [0, 0]: every resample of ~100 unrewarded matching rows gives 0; no warning said so
    with pytest.warns(OPEDiagnosticWarning, match=r"interval of ips, snips has zero width"):
        out = evaluate_policy(log, target, ["ips", "snips"], interval=interval, n_bootstrap=100)
    assert (out["ci_low"] == out["ci_high"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate_policy(log, target, ["ips"], interval=interval, n_bootstrap=100, warn=False)
        # the uniform policy meets rewarded rows: an ordinary interval, no warning
        evaluate_policy(log, np.full((len(log), 4), 0.25), ["ips"], interval=interval, n_bootstrap=100)


def test_zero_width_warning_is_the_same_streamed_and_from_inputs():
    from workbench.ope import OPEDiagnosticWarning, estimate_from_inputs, evaluate_policy, prepare_inputs

    log, target = _no_click_log()
    frame = log.to_frame().assign(**{f"pi_{a}": target[:, a] for a in range(4)})
    with pytest.warns(OPEDiagnosticWarning, match=r"interval of ips has zero width"):
        evaluate_policy([frame.iloc[:200], frame.iloc[200:]], [f"pi_{a}" for a in range(4)], ["ips"],
                        n_bootstrap=100)
    with pytest.warns(OPEDiagnosticWarning, match=r"interval of ips has zero width"):
        estimate_from_inputs(["ips"], prepare_inputs(log, target, estimators=["ips"]), n_bootstrap=100)
