"""Regression tests for OPE edge cases found by probing with unusual but valid (and invalid) inputs."""
import warnings

import numpy as np
import pytest

from workbench import ValidationError
from workbench.data import BanditLog, ContinuousBanditLog
from workbench.ope import (EpsilonGreedyPolicy, GreedyPolicy, SoftmaxPolicy, SubGaussianIPS, bandwidth_sweep,
                           benchmark_estimators, compare_policies, evaluate_policy, off_policy_cdf_from_weights,
                           slope_select, threshold_family)
from workbench.ope.evaluate import OPEDiagnosticWarning


def _log_with_unlogged_action(n=200, seed=0):
    """Four actions, the logger never plays action 3."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, n)
    r = rng.binomial(1, 0.3, n).astype(float)
    return BanditLog(action=a, reward=r, propensity=np.full(n, 1 / 3), n_actions=4)


# -- compare_policies --------------------------------------------------------------------------
def test_compare_policies_never_chooses_a_policy_whose_estimate_is_undefined():
    log = _log_with_unlogged_action()
    n = len(log)
    uniform = np.full((n, 4), 0.25)
    unlogged = np.zeros((n, 4))
    unlogged[:, 3] = 1.0  # snips is 0 / 0 for it: undefined
    first = np.zeros((n, 4))
    first[:, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = compare_policies(log, {"uniform": uniform, "unlogged": unlogged, "first": first}, estimator="snips",
                               n_bootstrap=200)
    s = cmp.summary.set_index("policy")
    assert np.isnan(s.loc["unlogged", "value"]) and np.isnan(s.loc["unlogged", "ci_low"])
    # np.argmax picked the NaN lower bound: the pessimistic choice was the policy with no estimate.
    assert cmp.choice == "uniform"
    # the undefined policy no longer zeroes every other policy's prob_best
    assert s.loc["unlogged", "prob_best"] == 0.0
    assert s.loc["uniform", "prob_best"] + s.loc["first", "prob_best"] == pytest.approx(1.0)
    assert s.loc["uniform", "prob_best"] > 0.5
    pw = cmp.pairwise.set_index(["policy_a", "policy_b"])
    # a difference that is never defined has no probability of being > 0 (it used to read 0.0)
    assert np.isnan(pw.loc[("uniform", "unlogged"), "prob_a_better"])
    assert 0 < pw.loc[("uniform", "first"), "prob_a_better"] < 1


def test_compare_policies_on_a_single_row_gives_nan_intervals_not_false_certainty():
    log = BanditLog(action=[0], reward=[1.0], propensity=[0.5], n_actions=2)
    with pytest.warns(OPEDiagnosticWarning, match="single row"):
        cmp = compare_policies(log, {"a": [[0.5, 0.5]], "b": [[1.0, 0.0]]}, estimator="ips", n_bootstrap=50)
    assert cmp.summary["ci_low"].isna().all() and cmp.summary["se"].isna().all()
    assert cmp.pairwise[["ci_low", "ci_high", "se"]].isna().all().all()
    assert cmp.best_estimate == "b" and cmp.choice == "b"


# -- evaluate_policy: bernstein ------------------------------------------------------------------
def test_sg_ips_bernstein_is_available_when_the_target_uses_an_action_the_logger_never_takes():
    n, K = 200, 5
    rng = np.random.default_rng(0)
    bd = np.zeros((n, K))
    bd[:, :3] = 1 / 3
    log = BanditLog(action=rng.integers(0, 3, n), reward=rng.binomial(1, 0.3, n).astype(float),
                    propensity=np.full(n, 1 / 3), n_actions=K, behavior_dist=bd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OPEDiagnosticWarning)
        out = evaluate_policy(log, np.full((n, K), 0.2), estimators=[SubGaussianIPS(lambda_=0.5)],
                              interval="bernstein")
    row = out.iloc[0]
    # the corrected weight is below 1 / lambda = 2 whatever pi_e / pi_b is: terms lie in [0, 2]
    assert 0.0 <= row["ci_low"] <= row["value"] <= row["ci_high"] <= 2.0


def test_bernstein_refuses_an_infinite_reward_range():
    log = BanditLog(action=[0, 1, 0, 1], reward=[-1.0, 2, 0.5, 3], propensity=[0.5] * 4,
                    behavior_dist=[[0.5, 0.5]] * 4)
    with pytest.raises(ValidationError, match="reward_range.*finite"):
        evaluate_policy(log, [[0.9, 0.1]] * 4, estimators=["ips"], interval="bernstein", reward_range=(-1, np.inf))


def test_bernstein_on_one_row_reports_no_standard_error():
    log = BanditLog(action=[0], reward=[1.0], propensity=[0.5], n_actions=2, behavior_dist=[[0.5, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OPEDiagnosticWarning)
        out = evaluate_policy(log, [[0.5, 0.5]], estimators=["ips"], interval="bernstein")
    assert np.isnan(out["se"].iloc[0])  # was 0.0: a zero standard error from one row
    assert (out["ci_low"].iloc[0], out["ci_high"].iloc[0]) == (0.0, 1.0)


def test_bca_on_an_undefined_snips_gives_nan_without_numpy_warnings():
    log = _log_with_unlogged_action()
    unlogged = np.zeros((len(log), 4))
    unlogged[:, 3] = 1.0
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = evaluate_policy(log, unlogged, estimators=["ips", "snips"], interval="bca", n_bootstrap=100)
    assert np.isnan(out.set_index("estimator").loc["snips", ["value", "ci_low", "ci_high"]].astype(float)).all()
    assert [w for w in rec if issubclass(w.category, RuntimeWarning)] == []
    assert any(issubclass(w.category, OPEDiagnosticWarning) for w in rec)


# -- selection: parameter checks ---------------------------------------------------------------
def test_slope_select_rejects_a_non_numeric_c_with_a_validation_error():
    log = _log_with_unlogged_action(50)
    pe = np.full((50, 4), 0.25)
    with pytest.raises(ValidationError, match="^c: "):
        slope_select(log, pe, threshold_family("ips", [np.inf, 1.0]), c="2", n_bootstrap=20)


@pytest.mark.parametrize("kw, match", [
    (dict(weights=[]), "weights: must not be empty"),
    (dict(weights=[np.nan, 1.0, 2.0]), "weights: must be finite.*first at row 0"),
    (dict(weights=[3.0, -1.0]), "weights: must be >= 0.*first at row 1"),
    (dict(weights=[1.0, 5.0], n_thresholds=2.5), "n_thresholds: must be an integer"),
    (dict(weights=[1.0, 5.0], n_thresholds=1), "n_thresholds: must be an integer >= 2"),
])
def test_threshold_family_validates_weights_and_n_thresholds(kw, match):
    # NaN weights silently gave [inf, 1]; [] raised numpy's "zero-size array"; 2.5 a TypeError
    with pytest.raises(ValidationError, match=match):
        threshold_family("ips", **kw)


def test_benchmark_estimators_refuses_a_fractional_number_of_replicates():
    with pytest.raises(ValidationError, match="n_replicates"):
        benchmark_estimators(lambda s: None, None, ["ips"], n_replicates=2.5)


# -- policies -------------------------------------------------------------------------------------
def test_policy_parameters_refuse_strings_and_infinite_temperature():
    with pytest.raises(ValidationError, match="epsilon"):
        EpsilonGreedyPolicy(lambda X: X, "0.1")
    with pytest.raises(ValidationError, match="temperature"):
        SoftmaxPolicy(lambda X: X, "1")
    with pytest.raises(ValidationError, match="temperature"):
        SoftmaxPolicy(lambda X: X, np.inf)
    # valid values keep working, numpy scalars included
    d = EpsilonGreedyPolicy(lambda X: X, np.float32(0.1)).action_dist(np.zeros((2, 2)))
    np.testing.assert_allclose(d.sum(axis=1), 1.0)


def test_nan_scores_error_names_count_and_first_row():
    def scorer(X):
        s = np.zeros((4, 3))
        s[2, 1] = s[3, 0] = np.nan
        return s

    with pytest.raises(ValidationError, match="scorer: returned NaN scores; 2 of 4 rows break the rule, first at row 2"):
        GreedyPolicy(scorer).action_dist(np.zeros((4, 2)))


# -- distributional -------------------------------------------------------------------------------
def test_cdf_levels_refuse_strings_and_accept_a_single_level():
    rng = np.random.default_rng(0)
    res = off_policy_cdf_from_weights(rng.normal(size=40), rng.exponential(size=40), n_bootstrap=50)
    with pytest.raises(ValidationError, match="^q: "):
        res.quantile("0.5")  # used to be parsed by float()
    out = res.summary(quantiles=0.5, cvar_levels=0.1)  # used to raise TypeError: float is not iterable
    assert list(out["statistic"]) == ["mean", "std", "quantile 0.5", "cvar 0.1"]


# -- continuous -----------------------------------------------------------------------------------
def test_bandwidth_sweep_error_names_the_bandwidths_field():
    log = ContinuousBanditLog(action=np.linspace(0, 1, 20), reward=np.ones(20), density=np.full(20, 0.1),
                              a_min=0, a_max=10)
    with pytest.raises(ValidationError, match="^bandwidths: must be a finite number > 0"):
        bandwidth_sweep(log, np.full(20, 0.5), [0.5, 0.0], n_bootstrap=20)


def test_continuous_snips_without_weighted_rows_is_nan_without_numpy_warnings():
    from workbench.ope import evaluate_continuous_policy

    log = ContinuousBanditLog(action=np.linspace(0, 1, 20), reward=np.ones(20), density=np.full(20, 0.1),
                              a_min=0, a_max=10)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = evaluate_continuous_policy(log, np.full(20, 9.0), bandwidth=0.5, n_bootstrap=50)
    assert np.isnan(out.set_index("estimator").loc["snips", "value"])
    assert [str(w.message) for w in rec if issubclass(w.category, RuntimeWarning)] == []
