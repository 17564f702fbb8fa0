"""Regression tests for OPE edge cases found by probing with unusual but valid (and invalid) inputs."""
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.data import BanditLog, ContinuousBanditLog
from workbench.ope import (EpsilonGreedyPolicy, GreedyPolicy, InverseProbabilityWeighting, SoftmaxPolicy,
                           SubGaussianIPS, bandwidth_sweep, benchmark_estimators, compare_policies, evaluate_policy,
                           off_policy_cdf_from_weights, slope_select, threshold_family)
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
def test_policy_parameters_refuse_strings_and_an_infinite_temperature_is_the_uniform_limit():
    with pytest.raises(ValidationError, match="epsilon"):
        EpsilonGreedyPolicy(lambda X: X, "0.1")
    for bad in ("1", True, np.nan, 0.0):
        with pytest.raises(ValidationError, match="temperature"):
            SoftmaxPolicy(lambda X: X, bad)
    # inf: uniform over the actions whose score is not -inf (s / inf would be NaN for a -inf score)
    scores = np.array([[1.0, -np.inf, 3.0], [0.0, 2.0, 5.0]])
    d = SoftmaxPolicy(lambda X: scores, np.inf).action_dist(np.zeros((2, 1)))
    np.testing.assert_allclose(d, [[0.5, 0.0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
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
    with pytest.raises(ValidationError, match=r"^bandwidths: must be >= .*positive.*first at row 1 \(value 0.0\)"):
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


# -- a target with one slice on axis 2 on a log with positions ----------------------------------------
def _positioned_log(n=400, k=4, n_pos=3, seed=0):
    rng = np.random.default_rng(seed)
    pb = rng.dirichlet(np.ones(k), size=n) * 0.5 + 0.5 / k
    a = (rng.random(n)[:, None] > np.cumsum(pb, 1)).sum(1).clip(max=k - 1)
    log = BanditLog(action=a, reward=rng.binomial(1, 0.3, n).astype(float), propensity=pb[np.arange(n), a],
                    n_actions=k, position=rng.integers(0, n_pos, n), n_positions=n_pos,
                    behavior_dist=np.repeat(pb[:, :, None], n_pos, axis=2), context=rng.standard_normal((n, 2)))
    return log, rng


def test_an_n_k_1_target_on_a_positioned_log_is_the_2d_target():
    # (n, K, 1) was refused on a log with positions ("must have 3 positions") while a (n, K, 1) reward
    # model was read as "the same in every slot", which is what a 2-D target means there.
    from workbench.ope import importance_weights, off_policy_cdf

    log, rng = _positioned_log()
    n, k = len(log), log.n_actions
    pe2 = rng.dirichlet(np.ones(k), size=n)
    pe3 = pe2[:, :, None]
    q = rng.uniform(0.1, 0.5, size=(n, k))
    ests = ["dm", "ips", "snips", "dr", "sndr", "switch-dr", "dr-os", "sg-ips"]
    kw = dict(estimators=ests, reward_model=q, n_bootstrap=30, warn=False)
    pd.testing.assert_frame_equal(evaluate_policy(log, pe3, **kw), evaluate_policy(log, pe2, **kw))
    pd.testing.assert_frame_equal(evaluate_policy(log, pe3, interval="bca", **kw),
                                  evaluate_policy(log, pe2, interval="bca", **kw))

    class OneSlice:
        def action_dist(self, log):
            return pe3

    pd.testing.assert_frame_equal(evaluate_policy(log, OneSlice(), **kw), evaluate_policy(log, pe2, **kw))
    np.testing.assert_array_equal(importance_weights(log, pe3), importance_weights(log, pe2))
    np.testing.assert_array_equal(off_policy_cdf(log, pe3, n_bootstrap=20).cdf,
                                  off_policy_cdf(log, pe2, n_bootstrap=20).cdf)
    uni = np.full((n, k), 1 / k)
    c3 = compare_policies(log, {"a": pe3, "u": uni}, estimator="ips", n_bootstrap=30)
    c2 = compare_policies(log, {"a": pe2, "u": uni}, estimator="ips", n_bootstrap=30)
    pd.testing.assert_frame_equal(c3.summary, c2.summary)
    with pytest.raises(ValidationError, match="^policy: must have 3 positions"):
        evaluate_policy(log, np.repeat(pe3, 2, axis=2), estimators=["ips"])


# -- estimator lists ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [None, [], (), 3])
def test_evaluate_policy_estimators_must_be_a_non_empty_sequence(bad):
    log = _log_with_unlogged_action(50)
    pe = np.full((50, 4), 0.25)
    # None and 3 raised a bare TypeError from list(); [] a late error after the inputs were prepared
    with pytest.raises(ValidationError, match="^estimators: must be a non-empty sequence of estimator names or "
                                              "estimator objects"):
        evaluate_policy(log, pe, estimators=bad, n_bootstrap=20)


def test_evaluate_policy_tabular_estimators_none_is_a_validation_error():
    df = pd.DataFrame({"action": [0, 1, 0, 1], "reward": [1.0, 0, 1, 0], "propensity": 0.5, "pi_0": 0.5,
                       "pi_1": 0.5})
    with pytest.raises(ValidationError, match="^estimators: must be a non-empty sequence"):
        evaluate_policy(df, ["pi_0", "pi_1"], estimators=None, n_bootstrap=20)


def test_evaluate_policy_a_single_name_is_a_list_of_one():
    # a guard (it passed before estimator_specs too): a string must stay one name, never list("ips")
    log = _log_with_unlogged_action(80)
    pe = np.full((80, 4), 0.25)
    one = evaluate_policy(log, pe, estimators=" IPS", n_bootstrap=20, warn=False)
    pd.testing.assert_frame_equal(one, evaluate_policy(log, pe, estimators=["ips"], n_bootstrap=20, warn=False))
    assert list(one["estimator"]) == ["ips"]


# -- continuous: names and zero weights -----------------------------------------------------------------
def _cont_log(n=60):
    rng = np.random.default_rng(1)
    return ContinuousBanditLog(action=rng.uniform(0, 1, n), reward=rng.random(n), density=np.full(n, 0.1),
                               a_min=0, a_max=10)


def test_continuous_estimator_names_are_normalised_like_evaluate_policy():
    from workbench.ope import evaluate_continuous_policy, kernel_estimate

    log = _cont_log()
    c = np.full(len(log), 0.5)
    ref = evaluate_continuous_policy(log, c, bandwidth=0.5, estimators=["ips", "snips"], n_bootstrap=30)
    out = evaluate_continuous_policy(log, c, bandwidth=0.5, estimators=["IPS", " Snips "], n_bootstrap=30)
    pd.testing.assert_frame_equal(out, ref)  # "IPS" was refused: must be one of ['ips', ...]
    one = evaluate_continuous_policy(log, c, bandwidth=0.5, estimators="IPS", n_bootstrap=30)
    pd.testing.assert_frame_equal(one, ref.iloc[:1])
    assert kernel_estimate(log, c, bandwidth=0.5, estimator="SNIPS", n_bootstrap=30).name == "snips"
    for bad in (None, []):
        with pytest.raises(ValidationError, match="^estimators: must be a non-empty sequence of estimator names"):
            evaluate_continuous_policy(log, c, bandwidth=0.5, estimators=bad, n_bootstrap=30)
    with pytest.raises(ValidationError, match="^estimators: must be one of"):
        evaluate_continuous_policy(log, c, bandwidth=0.5, estimators=["ipw"], n_bootstrap=30)


def test_continuous_all_zero_weights_warn_that_no_logged_row_gets_weight():
    from workbench.ope import evaluate_continuous_policy

    log = _cont_log()
    with pytest.warns(OPEDiagnosticWarning, match=r"covers no logged action.*every importance weight is 0: the "
                                                  r"target has no support on the logged actions") as rec:
        out = evaluate_continuous_policy(log, np.full(len(log), 9.0), bandwidth=0.5, n_bootstrap=30)
    assert sum(issubclass(w.category, OPEDiagnosticWarning) for w in rec) == 1
    assert out["value"].iloc[0] == 0.0 and np.isnan(out["value"].iloc[1])
    with warnings.catch_warnings(record=True) as rec:  # a target whose kernel covers logged actions: no such warning
        warnings.simplefilter("always", OPEDiagnosticWarning)
        evaluate_continuous_policy(log, np.full(len(log), 0.5), bandwidth=0.5, n_bootstrap=30)
    assert not any("covers no logged action" in str(w.message) for w in rec)
    # (this log's density column says uniform on [0, 10] but its actions lie in [0, 1]: the mean
    # weight, 10, is what the other diagnostic reports)
    assert any("mean kernel weight is 10.17" in str(w.message) for w in rec)


# -- numeric parameters are checked, not parsed with float() / int() -----------------------------------
def test_reward_range_refuses_strings_and_booleans():
    log = _log_with_unlogged_action(60)
    pe = np.full((60, 4), 0.25)
    kw = dict(estimators=[InverseProbabilityWeighting(clip=10.0)], interval="bernstein", n_bootstrap=20, warn=False)
    ref = evaluate_policy(log, pe, reward_range=(0, 1), **kw)
    pd.testing.assert_frame_equal(evaluate_policy(log, pe, reward_range=np.array([0.0, 1.0]), **kw), ref)
    pd.testing.assert_frame_equal(evaluate_policy(log, pe, reward_range=(np.float32(0), np.int64(1)), **kw), ref)
    for bad in [("0", "1"), (False, 1), (0, None), (0, np.inf)]:
        with pytest.raises(ValidationError, match="^reward_range: must be a finite number"):
            evaluate_policy(log, pe, reward_range=bad, **kw)
    for bad in [1.0, (0, 1, 2)]:
        with pytest.raises(ValidationError, match="^reward_range: must be a pair of numbers"):
            evaluate_policy(log, pe, reward_range=bad, **kw)


def test_estimator_constants_refuse_strings_and_booleans():
    from workbench.ope import DoublyRobustWithShrinkage, SwitchDR

    for make, field in [(lambda v: InverseProbabilityWeighting(clip=v), "clip"),
                        (lambda v: SwitchDR(lambda_=v), "lambda_"),
                        (lambda v: DoublyRobustWithShrinkage(lambda_=v), "lambda_"),
                        (lambda v: SubGaussianIPS(lambda_=v), "lambda_")]:
        for bad in ("0.5", True):  # float() accepted both; "0.5" then broke np.minimum inside the estimate
            with pytest.raises(ValidationError, match=f"^{field}: must be a number"):
                make(bad)
    with pytest.raises(ValidationError, match="^delta: must be a number"):
        SubGaussianIPS(delta="0.1")
    # valid values keep working, stored as the checked float, so 2, 2.0 and float32(2) share one label
    labels = [InverseProbabilityWeighting(clip=v).label for v in (2, 2.0, np.float32(2), np.inf)]
    assert labels == ["ips(clip=2)", "ips(clip=2)", "ips(clip=2)", "ips"]
    assert SwitchDR(lambda_=np.array(3.0)).lambda_ == 3.0


def test_threshold_family_and_slope_family_are_checked():
    ref = threshold_family("ips", [5, np.inf, 2.0])
    assert [m.clip for m in ref] == [np.inf, 5.0, 2.0]
    assert [m.clip for m in threshold_family("ips", np.array([np.inf, 5, 2]))] == [np.inf, 5.0, 2.0]
    for bad in (["inf", 5], [np.inf, True], [np.inf, np.nan], [np.inf, -1.0]):
        with pytest.raises(ValidationError, match="^thresholds: must be"):
            threshold_family("ips", bad)
    with pytest.raises(ValidationError, match="^thresholds: must be a sequence of numbers"):
        threshold_family("ips", 5.0)
    log = _log_with_unlogged_action(50)
    with pytest.raises(ValidationError, match="^family: must be a sequence of at least two estimators"):
        slope_select(log, np.full((50, 4), 0.25), None, n_bootstrap=20)


def test_n_bootstrap_errors_name_n_bootstrap_in_every_entry_point():
    from workbench.ope import evaluate_continuous_policy

    log = _log_with_unlogged_action(50)
    pe = np.full((50, 4), 0.25)
    rng = np.random.default_rng(0)
    calls = [
        lambda: compare_policies(log, {"a": pe, "b": pe}, estimator="ips", n_bootstrap=2.5),
        lambda: evaluate_continuous_policy(_cont_log(), np.full(60, 0.5), bandwidth=0.5, n_bootstrap=2.5),
        lambda: off_policy_cdf_from_weights(rng.normal(size=40), rng.exponential(size=40), n_bootstrap=2.5),
    ]
    for call in calls:  # were reported as "n_replicates", a name the caller never used
        with pytest.raises(ValidationError, match="^n_bootstrap: must be an integer"):
            call()


def test_streamed_reward_range_follows_the_in_memory_rule():
    import pandas as pd

    from workbench import ValidationError
    from workbench.ope import evaluate_policy

    frame = pd.DataFrame({"action": [0, 1, 0, 1], "reward": [1.0, 0.0, 1.0, 1.0], "propensity": [0.5] * 4,
                          "p0": [0.5] * 4, "p1": [0.5] * 4, "b0": [0.5] * 4, "b1": [0.5] * 4})
    kw = dict(estimators=[" IPS "], interval="bernstein", behavior=["b0", "b1"], warn=False)
    for bad in [("0", "1"), (0, float("inf")), (True, 2), (1, 0)]:
        with pytest.raises(ValidationError, match="reward_range"):
            evaluate_policy(frame, ["p0", "p1"], reward_range=bad, **kw)
    out = evaluate_policy(frame, ["p0", "p1"], reward_range=(0, 1), **kw)
    assert out["estimator"].tolist() == ["ips"]
