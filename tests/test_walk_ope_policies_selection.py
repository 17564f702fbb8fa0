"""Findings of a walk through workbench.ope's distributional, selection and policy modules (stop 26)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from workbench import ValidationError
from workbench.data import simulate_bandit
from workbench.ope import (GreedyPolicy, ModelProbabilityPolicy, UniformPolicy, benchmark_estimators,
                           compare_policies, policy_scores, slope_select, summarise_replicates, threshold_family)
from workbench.ope.distributional import off_policy_cdf, off_policy_cdf_from_weights

LOG, _ = simulate_bandit(200, n_actions=3, random_state=0)
TARGET = np.tile([0.6, 0.3, 0.1], (200, 1))


@pytest.mark.parametrize("kw", [dict(bandwidth=0.5), dict(kernel="gaussian"), dict(boundary="reflect")])
def test_smoothing_options_are_refused_on_a_discrete_log(kw):
    field = next(iter(kw))
    with pytest.raises(ValidationError, match=f"^{field}: applies to a ContinuousBanditLog"):
        off_policy_cdf(LOG, TARGET, n_bootstrap=20, **kw)


def test_quantile_at_a_tiny_level_is_a_reward_with_mass():
    r = off_policy_cdf_from_weights([-100.0, 1.0, 2.0, 3.0], [0.0, 1.0, 1.0, 1.0], n_bootstrap=20)
    assert r.quantile(1e-13).value == 1.0  # F(-100) = 0: -100 is no quantile at any level > 0
    assert r.quantile(1 / 3).value == 1.0 and r.quantile(0.34).value == 2.0


class _NaNProba(LogisticRegression):
    def predict_proba(self, X):
        p = super().predict_proba(X)
        p[3] = np.nan
        return p


class _ExtraRow(LogisticRegression):
    def predict_proba(self, X):
        p = super().predict_proba(X)
        return np.vstack([p, p[:1]])


@pytest.mark.parametrize("policy", [GreedyPolicy, ModelProbabilityPolicy])
def test_classifier_output_is_checked_like_a_scorer(policy):
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.arange(20) % 3
    field = "model" if policy is ModelProbabilityPolicy else "scorer"
    with pytest.raises(ValidationError, match=rf"^{field}: predict_proba returned NaN.*first at row 3"):
        policy(_NaNProba().fit(X, y)).action_dist(X)  # greedy played action 0 there (argmax takes NaN as max)
    with pytest.raises(ValidationError, match=rf"^{field}: predict_proba must return .*\(20, 3\).*\(21, 3\)"):
        policy(_ExtraRow().fit(X, y)).action_dist(X)


def test_policy_scores_checks_n_actions():
    X = np.random.default_rng(0).normal(size=(20, 2))
    clf = LogisticRegression().fit(X, np.arange(20) % 2)
    for bad in (2.9, "3", 0):
        with pytest.raises(ValidationError, match="^n_actions:"):
            policy_scores(clf, X, bad)
    assert policy_scores(clf, X, 3.0).shape == (20, 3)  # an integral float is an integer


def test_n_folds_type_is_checked_even_when_no_model_is_fitted():
    with pytest.raises(ValidationError, match="^n_folds: must be an integer"):
        compare_policies(LOG, {"a": UniformPolicy(), "b": TARGET}, estimator="ips", n_folds="x")
    with pytest.raises(ValidationError, match="^n_folds: must be an integer"):
        slope_select(LOG, TARGET, ["ips", "snips"], n_folds=2.5)


@pytest.mark.parametrize("seed, message", [(True, "boolean"), (-1, "non-negative")])
def test_benchmark_estimators_takes_random_state_as_every_function_does(seed, message):
    with pytest.raises(ValidationError, match=f"^random_state:.*{message}"):
        benchmark_estimators(lambda s: simulate_bandit(50, n_actions=3, random_state=s), TARGET[:50],
                             n_replicates=2, random_state=seed, progress=False)


def _reps(change=None):
    reps = pd.DataFrame({"estimator": ["ips", "dm"] * 3, "value": [0.50, 0.40, 0.60, 0.45, 0.55, 0.42],
                         "ci_low": [0.40, 0.38, 0.50, 0.43, 0.45, 0.40], "ci_high": [0.60, 0.42, 0.70, 0.47, 0.65, 0.44],
                         "truth": [0.52, 0.52, 0.50, 0.50, 0.51, 0.51]})
    for (col, row), v in (change or {}).items():
        reps.loc[row, col] = v
    return reps


@pytest.mark.parametrize("col, value, field", [("estimator", None, "estimator"), ("truth", np.nan, "truth"),
                                               ("ci_low", 0.9, "ci_low")])
def test_summarise_replicates_refuses_rows_it_would_drop_or_miscount(col, value, field):
    with pytest.raises(ValidationError, match=rf"^reps\['{field}'\].*first at row 2"):
        summarise_replicates(_reps({(col, 2): value}))
    ok = summarise_replicates(_reps({("ci_low", 2): np.nan}))  # an undefined interval: a miss, not refused
    assert ok.set_index("estimator").loc["ips", "coverage"] == pytest.approx(2 / 3)


def test_threshold_family_has_no_member_identical_to_the_unbiased_one():
    w = np.array([0.5, 1.0, 2.0, 8.0, 40.0])
    for kind in ("ips", "dr", "switch-dr"):
        fam = threshold_family(kind, weights=w, n_thresholds=2)
        th = getattr(fam[1], "lambda_", None) or getattr(fam[1], "clip", None)
        assert th < w.max()  # was [kind, kind(clip=40)]: a clip at the largest weight changes nothing


def test_self_normalised_cdf_bootstrap_says_how_many_replicates_were_undefined():
    w = np.zeros(30)
    w[[3, 17]] = 2.0
    with pytest.warns(RuntimeWarning, match="32 of 200 bootstrap replicates draw no row with weight"):
        r = off_policy_cdf_from_weights(np.random.default_rng(0).random(30), w, n_bootstrap=200)
    assert r.diagnostics["undefined_replicates"] == 32
