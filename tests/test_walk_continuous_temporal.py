"""Findings of a walk through continuous-action OPE, the streamed reward models and temporal backtests
(stop 26)."""
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.data import simulate_drifting_stream, simulate_pricing, train_historical_models
from workbench.ope import ContinuousRewardModel, bandwidth_monte_carlo, bandwidth_sweep, evaluate_continuous_policy
from workbench.resample import period_losses, temporal_scores
from workbench.scale import evaluate_tabular

LOG, TRUTH = simulate_pricing(500, random_state=0)
C = TRUTH.optimal_action()


def test_continuous_estimator_names_must_be_unique():
    with pytest.raises(ValidationError, match="^estimators: names must be unique"):
        evaluate_continuous_policy(LOG, C, bandwidth=0.5, estimators=["ips", "IPS"], n_bootstrap=20)


def test_boolean_and_reordered_target_actions_are_refused():
    with pytest.raises(ValidationError, match="^target_action: must be actions"):
        evaluate_continuous_policy(LOG, np.ones(500, bool), bandwidth=0.5, n_bootstrap=20, warn=False)
    with pytest.raises(ValidationError, match="^target_action: must be actions"):
        TRUTH.policy_value(np.ones(500, bool))
    df = LOG.to_frame().assign(target=C)
    with pytest.raises(ValidationError, match="^target_action: is a Series whose index is 0..499 in another order"):
        evaluate_continuous_policy(LOG, df.sort_values("reward")["target"], bandwidth=0.5, n_bootstrap=20)
    a = evaluate_continuous_policy(LOG, df["target"], bandwidth=0.5, n_bootstrap=20, random_state=0)
    b = evaluate_continuous_policy(LOG, C, bandwidth=0.5, n_bootstrap=20, random_state=0)
    pd.testing.assert_frame_equal(a, b)


def test_reward_models_that_return_text_or_complex_numbers_are_refused():
    q = lambda x, a: np.char.mod("%.3f", TRUTH.problem.expected_reward(x, a))  # noqa: E731
    with pytest.raises(ValidationError, match="^reward_model: must return numbers"):
        evaluate_continuous_policy(LOG, C, bandwidth=0.5, estimators=["dm"], reward_model=q, n_bootstrap=20)
    m = ContinuousRewardModel(lambda x, a: a).fit(LOG)
    with pytest.raises(ValidationError, match="^action: must be numeric"):
        m.predict(np.full(500, "2.5"))
    with pytest.raises(ValidationError, match="^action: must be finite.*first at row 0"):
        m.predict(np.r_[np.nan, LOG.action[1:]])
    rng = np.random.default_rng(0)
    tab = pd.DataFrame({"action": rng.integers(0, 2, 200), "reward": rng.random(200), "propensity": 0.5,
                        "pi_0": 0.8, "pi_1": 0.2})
    for bad, match in ((np.full((200, 2), "0.5"), "must return numbers"), (np.full((200, 2), 0.5 + 2j), "real")):
        with pytest.raises(ValidationError, match=f"^reward_model: .*{match}"):
            evaluate_tabular(tab, ["pi_0", "pi_1"], ["dm"], reward_model=lambda ch, b=bad: b[:len(ch)], n_bootstrap=20,
                             warn=False)


def test_bandwidth_monte_carlo_leaves_undefined_replicates_out_and_says_so():
    sim = lambda rs: simulate_pricing(30, logging_sd=0.3, random_state=rs)  # noqa: E731
    with pytest.warns(RuntimeWarning, match="undefined in some simulated logs"):
        out = bandwidth_monte_carlo(sim, lambda log, t: np.full(len(log), 9.0), [0.1, 3.0], n_replicates=6)
    snips = out[out.estimator == "snips"].set_index("bandwidth")
    assert snips.loc[0.1, "n_undefined"] > 0
    assert (snips["n_replicates"] + snips["n_undefined"] == 6).all()
    assert np.isfinite(out[out.estimator == "ips"]["bias"]).all()  # ips is defined everywhere: unaffected


def test_bandwidth_sweep_names_the_bad_entry():
    with pytest.raises(ValidationError, match=r"^bandwidths: must be >= .*first at row 1"):
        bandwidth_sweep(LOG, C, [0.5, 1e-320], n_bootstrap=20)
    with pytest.raises(ValidationError, match=r"^bandwidths: must be finite.*first at row 2"):
        bandwidth_sweep(LOG, C, [0.5, 1.0, np.nan], n_bootstrap=20)


def test_temporal_availability_and_period_are_times_not_booleans():
    s = simulate_drifting_stream(n_periods=5, points_per_period=50, random_state=0)
    plog, avail = train_historical_models(s)
    with pytest.raises(ValidationError, match="^available_from: must be times"):
        temporal_scores(plog, [True, True, False, True])
    with pytest.raises(ValidationError, match="^period: must be times"):
        period_losses(plog, avail, period=True)
    with pytest.raises(ValidationError, match="^period: must be times of the timestamps' kind"):
        period_losses(plog, avail, period="2")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert period_losses(plog, avail, period=2).shape[0] > 0
