"""Frictions a new user hit on the three case-study questions (audit round 3, 'r3_user')."""
import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench import ValidationError


def test_alpha_given_as_confidence_level_is_refused():
    # alpha=0.95 (the confidence level typed for the miscoverage) silently gave a 5% interval
    x = np.random.default_rng(0).normal(size=50)
    with pytest.raises(ValidationError, match=r"alpha: .*must be <= 0.5, got 0.95 \(a 5% interval\).*alpha=0.05"):
        wb.resample.bootstrap_ci(x, alpha=0.95, n_resamples=50, random_state=0)
    log, _ = wb.data.simulate_bandit(200, n_actions=3, random_state=0)
    with pytest.raises(ValidationError, match="alpha"):
        wb.ope.evaluate_policy(log, wb.ope.UniformPolicy(), estimators="ips", alpha=0.95, n_bootstrap=20)
    r = wb.resample.bootstrap_ci(x, alpha=0.5, n_resamples=50, random_state=0)  # 50% intervals stay legal
    assert r.ci_low < r.ci_high


def test_threshold_family_refuses_an_action_distribution_as_weights():
    # the (n, K[, slots]) target distribution was raveled into "weights": a silent ['ips', 'ips(clip=1)']
    dist = np.full((100, 4, 2), 0.25)
    with pytest.raises(ValidationError, match=r"weights: must be 1-D.*shape \(100, 4, 2\).*importance_weights"):
        wb.ope.threshold_family("ips", weights=dist)
    log, _ = wb.data.simulate_bandit(300, n_actions=4, random_state=0)
    w = wb.ope.importance_weights(log, np.tile([0.7, 0.1, 0.1, 0.1], (300, 1)))
    assert len(wb.ope.threshold_family("ips", weights=w, n_thresholds=4)) == 4


def test_tabular_log_with_array_policy_names_the_shape_not_the_values():
    # log.to_frame() with an in-memory target printed the whole (n, K) array in the message
    log, _ = wb.data.simulate_bandit(500, n_actions=3, random_state=0)
    target = np.full((500, 3), 1 / 3)
    with pytest.raises(ValidationError) as exc:
        wb.ope.evaluate_policy(log.to_frame(), target, estimators="ips", n_bootstrap=20)
    msg = str(exc.value)
    assert "an array of shape (500, 3)" in msg and "BanditLog" in msg
    assert "0.333" not in msg and len(msg) < 400


def test_estimate_risk_on_a_zoo_stack_says_which_slice():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=(4, 60))
    labels = rng.integers(0, 3, 60)
    with pytest.raises(ValidationError, match=r"probs: .*one model's.*\(4, 60, 3\).*4 models.*probs\[k\]"):
        wb.active.estimate_risk(probs, labels, budget=10, random_state=0)
    assert np.isfinite(wb.active.estimate_risk(probs[1], pd.Series(labels), budget=10, random_state=0).estimate.value)


def test_select_model_label_count_under_another_name_points_to_budget():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=(4, 200))  # more points than the default budget of 100
    labels = rng.integers(0, 3, 200)
    with pytest.raises(ValidationError, match=r"options: \['n_labels'\] not understood.*budget= \(not n_labels=\)"):
        wb.active.select_model(probs, labels, n_labels=10, random_state=0)
    with pytest.raises(ValidationError) as exc:  # an unrelated unknown option gets no budget hint
        wb.active.select_model(probs, labels, 10, strategy="random", floor=0.1)
    assert "budget=" not in str(exc.value)
