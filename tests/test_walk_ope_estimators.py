"""Findings of a walk through the core off-policy estimators (stop 26)."""
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.data import BanditLog, simulate_bandit
from workbench.ope import (DoublyRobustWithShrinkage, InverseProbabilityWeighting, OPEDiagnosticWarning,
                           UniformPolicy, evaluate_policy, importance_weights, slope_select, threshold_family)

LOG, _ = simulate_bandit(2000, n_actions=3, random_state=0)
PE = np.tile([0.8, 0.1, 0.1], (2000, 1))


def test_policy_and_reward_frames_whose_labels_say_they_are_misordered_are_refused():
    with pytest.raises(ValidationError, match="^policy: is a DataFrame whose columns are the actions 0..2 in another"):
        evaluate_policy(LOG, pd.DataFrame(PE, columns=[0, 1, 2])[[2, 0, 1]], estimators=["ips"])
    with pytest.raises(ValidationError, match="^policy: is a DataFrame whose row index is 0..1999 in another order"):
        evaluate_policy(LOG, pd.DataFrame(PE).sample(frac=1, random_state=0), estimators=["ips"])
    q = pd.DataFrame(np.full((2000, 3), 0.3), columns=[1, 0, 2])
    with pytest.raises(ValidationError, match="^reward_model: is a DataFrame whose columns"):
        evaluate_policy(LOG, PE, estimators=["dr"], reward_model=q)
    # in order, or named columns (which cannot be checked): read by position, as arrays are
    same = evaluate_policy(LOG, pd.DataFrame(PE, columns=["a", "b", "c"]), estimators=["ips"], random_state=0)
    assert same.value.iloc[0] == evaluate_policy(LOG, PE, estimators=["ips"], random_state=0).value.iloc[0]


def test_bernstein_accepts_propensities_within_the_logs_tolerance_of_behavior_dist():
    rng = np.random.default_rng(0)
    n = 300
    log = BanditLog(action=rng.integers(0, 3, n), reward=(rng.random(n) < 0.5) * 1.0, propensity=np.full(n, 0.333333),
                    n_actions=3, behavior_dist=np.full((n, 3), 1 / 3))
    out = evaluate_policy(log, np.tile([1.0, 0, 0], (n, 1)), estimators=["ips", "sg-ips"], interval="bernstein")
    assert ((out.ci_low <= out.value) & (out.value <= out.ci_high)).all()


def test_estimators_differing_past_four_digits_get_distinct_labels():
    pe = 0.9999 * LOG.behavior_dist + 0.0001 / 3
    fam = threshold_family("ips", weights=importance_weights(LOG, pe))
    out = evaluate_policy(LOG, pe, estimators=fam, n_bootstrap=50)  # was "names must be unique"
    assert out.estimator.is_unique
    assert slope_select(LOG, pe, fam, n_bootstrap=50).path.member.is_unique


def test_constant_terms_give_the_point_as_interval_and_the_zero_width_warning():
    for interval in ("percentile", "bca", "normal"):
        with pytest.warns(OPEDiagnosticWarning, match="zero width"):
            out = evaluate_policy(LOG, UniformPolicy(), estimators=["dm"], reward_model=np.full((2000, 3), 0.1),
                                  interval=interval)
        assert out.ci_low.iloc[0] == out.value.iloc[0] == out.ci_high.iloc[0]


def test_importance_weights_refuses_an_overflowing_weight_as_prepare_inputs_does():
    log = BanditLog(action=[0, 1], reward=[1.0, 0.0], propensity=[0.5, 1e-320], n_actions=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match="^weights: must be finite.*first at row 1"):
            importance_weights(log, np.full((2, 2), 0.5))


def test_hyper_parameters_are_stored_as_checked_floats():
    assert InverseProbabilityWeighting(clip=Fraction(5, 2)).clip == 2.5
    assert isinstance(InverseProbabilityWeighting(clip=10).clip, float)
    out = evaluate_policy(LOG, PE, estimators=[DoublyRobustWithShrinkage(lambda_=1e308), "dr"], n_bootstrap=50,
                          random_state=0)
    assert out.value.iloc[0] == pytest.approx(out.value.iloc[1], rel=1e-12)  # lambda = 1e308: no shrinkage


def test_a_reward_model_that_is_no_model_is_refused_even_when_unused():
    for bad in ("ridge", lambda X: X, 0.5):
        with pytest.raises(ValidationError, match="^reward_model: must be a scikit-learn estimator"):
            evaluate_policy(LOG, PE, estimators=["ips"], reward_model=bad)
    from sklearn.linear_model import Ridge

    evaluate_policy(LOG, PE, estimators=["ips"], reward_model=Ridge(), n_bootstrap=20)  # a model, unused: fine
