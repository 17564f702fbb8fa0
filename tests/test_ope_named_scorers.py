"""Policies whose scorer is a scikit-learn model fitted on named contexts, and ``warn=False`` of the
continuous-action evaluation.

* A log built from a DataFrame keeps its context column names. A model fitted on a DataFrame
  (``feature_names_in_``) is given a DataFrame with those names, so a Pipeline whose ColumnTransformer
  selects columns by name works as a policy's scorer (it was scikit-learn's "Specifying the columns using
  strings is only supported for dataframes"), and scores as the same pipeline selecting by index.
  Contexts named in another order are refused as the reward model refuses them. Arrays, unnamed logs,
  callables and models fitted on arrays still get the array.
* ``evaluate_continuous_policy(..., warn=False)`` issued the "no support" warning (every kernel weight
  0) and the single-row / single-unit warning regardless; ``bandwidth_sweep`` (which passes warn=False
  and promises no warning) repeated the first once per bandwidth.
"""
import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workbench._validation import ValidationError
from workbench.data import BanditLog, ContinuousBanditLog, simulate_bandit, simulate_pricing
from workbench.ope import (EpsilonGreedyPolicy, GreedyPolicy, GreedyRankingPolicy, ModelProbabilityPolicy,
                           OPEDiagnosticWarning, SelfNormalizedIPS, SoftmaxPolicy, evaluate_policy, fit_reward_scorer)
from workbench.ope.continuous import bandwidth_sweep, evaluate_continuous_policy, kernel_estimate

NAMES = ["age", "income", "score"]


@pytest.fixture(scope="module")
def logs():
    """The same simulated log, unnamed (its arrays) and named (built from a DataFrame)."""
    sim, _ = simulate_bandit(1500, n_actions=4, random_state=7)
    frame = sim.to_frame().rename(columns=dict(zip(["x0", "x1", "x2"], NAMES)))
    named = BanditLog.from_frame(frame, action="action", reward="reward", propensity="propensity", context=NAMES,
                                 n_actions=4)
    log = dataclasses.replace(named, context_names=None)  # the same log (no behavior_dist either), unnamed
    assert named.context_names == tuple(NAMES) and log.context_names is None
    assert np.array_equal(named.context, sim.context) and np.array_equal(log.context, sim.context)
    return log, named, frame[NAMES]


def _by_name(X, y):  # selects (score, age) by name; income is dropped
    ct = ColumnTransformer([("s", StandardScaler(), ["score", "age"])])
    return make_pipeline(ct, LogisticRegression()).fit(X, y)


def _by_index(X, y):  # the same pipeline, the same columns by position
    ct = ColumnTransformer([("s", StandardScaler(), [2, 0])])
    return make_pipeline(ct, LogisticRegression()).fit(X, y)


def _policies(model, n_positions=None):
    """One policy of each kind on ``model``; the ranking fills ``n_positions`` slots (a log's by default)."""
    return [GreedyPolicy(model), EpsilonGreedyPolicy(model, epsilon=0.2), SoftmaxPolicy(model, temperature=0.5),
            ModelProbabilityPolicy(model), GreedyRankingPolicy(model, n_positions=n_positions)]


# ---------------------------------------------------------------------------------------------
# A ColumnTransformer selecting by name as the scorer
# ---------------------------------------------------------------------------------------------
def test_column_transformer_by_name_scores_as_by_index(logs):
    log, named, X = logs
    by_name = _by_name(X, log.action)
    by_index = _by_index(log.context, log.action)
    for data, same in ((named, log), (X, log.context)):  # a named log; a DataFrame of contexts (named too)
        n_pos = None if data is named else 2  # a ranking of contexts needs its slots
        for p_name, p_index in zip(_policies(by_name, n_pos), _policies(by_index, n_pos)):
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # nor any scikit-learn feature-name warning
                got = p_name.action_dist(data)
            np.testing.assert_array_equal(got, p_index.action_dist(same), err_msg=type(p_name).__name__)
    # the policy's value, too (and the pipeline does depend on the contexts: not a constant policy)
    snips = SelfNormalizedIPS()
    v_name = snips.estimate_policy_value(named, SoftmaxPolicy(by_name, temperature=0.5))
    v_index = snips.estimate_policy_value(log, SoftmaxPolicy(by_index, temperature=0.5))
    assert v_name == v_index
    out_name = evaluate_policy(named, GreedyPolicy(by_name), estimators=["ips", "snips"], n_bootstrap=50)
    out_index = evaluate_policy(log, GreedyPolicy(by_index), estimators=["ips", "snips"], n_bootstrap=50)
    pd.testing.assert_frame_equal(out_name, out_index)
    assert len(np.unique(GreedyPolicy(by_name).action_dist(named).argmax(axis=1))) > 1


def test_regressor_pipeline_by_name(logs):
    # the predict branch (a multi-output regressor of per-action rewards)
    log, named, X = logs
    y = np.eye(4)[log.action] * log.reward[:, None]
    ct = ColumnTransformer([("s", StandardScaler(), ["income", "score"])])
    by_name = make_pipeline(ct, Ridge()).fit(X, y)
    by_index = make_pipeline(ColumnTransformer([("s", StandardScaler(), [1, 2])]), Ridge()).fit(log.context, y)
    np.testing.assert_array_equal(GreedyPolicy(by_name).action_dist(named), GreedyPolicy(by_index).action_dist(log))


# ---------------------------------------------------------------------------------------------
# Named in another order: refused, as the reward model refuses it
# ---------------------------------------------------------------------------------------------
def test_reordered_columns_refused_with_the_first_differing_column(logs):
    log, named, X = logs
    frame = named.to_frame()
    swapped = BanditLog.from_frame(frame, action="action", reward="reward", propensity="propensity",
                                   context=["score", "age", "income"], n_actions=4)
    by_name = _by_name(X, log.action)
    rm = fit_reward_scorer(named, LogisticRegression())
    with pytest.raises(ValidationError) as ref:
        rm(swapped)
    for policy in _policies(by_name):
        with pytest.raises(ValidationError) as err:
            policy.action_dist(swapped)
        assert err.value.field == "context"
        assert "column 0 is 'score', was 'age'" in err.value.rule
        assert "same names in another order" in err.value.rule
        # the reward model's rule, word for word, but for who was fitted
        assert err.value.rule.replace("the scorer (Pipeline)", "the reward model") == ref.value.rule
    # a reordered DataFrame of contexts
    with pytest.raises(ValidationError, match=r"^contexts: .*column 1 is 'score', was 'income'"):
        GreedyPolicy(by_name).action_dist(X[["age", "score", "income"]])


# ---------------------------------------------------------------------------------------------
# Unchanged: arrays, unnamed logs, models fitted on arrays, callables
# ---------------------------------------------------------------------------------------------
class _Spy(LogisticRegression):
    """Records the type of what it is asked to score."""

    def predict_proba(self, X):
        self.seen_ = type(X)
        return super().predict_proba(X)


def test_arrays_and_array_fitted_models_get_arrays(logs):
    log, named, X = logs
    on_array = _Spy().fit(log.context, log.action)
    base = GreedyPolicy(on_array).action_dist(log.context)
    assert on_array.seen_ is np.ndarray
    for data in (log, named, X):  # fitted without names: an array, whatever the data
        np.testing.assert_array_equal(GreedyPolicy(on_array).action_dist(data), base)
        assert on_array.seen_ is np.ndarray
    on_frame = _Spy().fit(X, log.action)
    # the same numbers fitted under names: a DataFrame for named data, bit-identical to the array's scores
    np.testing.assert_array_equal(on_frame.coef_, on_array.coef_)
    for data in (named, X):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "X does not have valid feature names" came with the array
            np.testing.assert_array_equal(SoftmaxPolicy(on_frame).action_dist(data),
                                          SoftmaxPolicy(on_array).action_dist(log))
        assert on_frame.seen_ is pd.DataFrame
    for data in (log, log.context):  # unnamed data: the array, as before (scikit-learn's own warning says so)
        with pytest.warns(UserWarning, match="valid feature names"):
            np.testing.assert_array_equal(GreedyPolicy(on_frame).action_dist(data), base)
        assert on_frame.seen_ is np.ndarray
    # a callable, a RewardModelScorer: arrays
    seen = []
    GreedyPolicy(lambda C: seen.append(type(C)) or C @ np.ones((3, 4))).action_dist(named)
    assert seen == [np.ndarray]
    rm = fit_reward_scorer(named, LogisticRegression())
    np.testing.assert_array_equal(GreedyPolicy(rm).action_dist(named), GreedyPolicy(rm).action_dist(log))


# ---------------------------------------------------------------------------------------------
# evaluate_continuous_policy: warn=False silences every diagnostics warning
# ---------------------------------------------------------------------------------------------
def _diagnostics(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [str(w.message) for w in rec if issubclass(w.category, OPEDiagnosticWarning)]


@pytest.fixture(scope="module")
def no_support():
    """Logged prices below 9, the target at 10 with bandwidth 0.25: its kernel covers no logged action."""
    log, truth = simulate_pricing(2000, logging="uniform", random_state=3)
    keep = log.action < 9.0
    sub = ContinuousBanditLog(action=log.action[keep], reward=log.reward[keep], density=log.density[keep],
                              a_min=log.a_min, a_max=log.a_max, context=log.context[keep])
    return sub, np.full(int(keep.sum()), 10.0)


def test_no_weight_warning_obeys_warn(no_support):
    log, c = no_support
    out, msgs = _diagnostics(evaluate_continuous_policy, log, c, bandwidth=0.25, n_bootstrap=30)
    assert len(msgs) == 1 and "every importance weight is 0" in msgs[0]
    assert out["ess"].iloc[0] == 0.0 and out["share_zero_weight"].iloc[0] == 1.0
    quiet, msgs = _diagnostics(evaluate_continuous_policy, log, c, bandwidth=0.25, n_bootstrap=30, warn=False)
    assert msgs == []
    pd.testing.assert_frame_equal(quiet, out)  # the frame still reports it
    assert _diagnostics(kernel_estimate, log, c, bandwidth=0.25, n_bootstrap=30, warn=False)[1] == []
    # bandwidth_sweep promises no warning (it passes warn=False): it warned once per bandwidth
    sweep, msgs = _diagnostics(bandwidth_sweep, log, c, [0.1, 0.25], n_bootstrap=30)
    assert msgs == [] and (sweep["ess"] == 0.0).all()


def test_single_row_or_unit_warning_obeys_warn():
    log, truth = simulate_pricing(50, logging="uniform", random_state=0)
    c = np.full(50, 5.0)
    one_row = dict(bandwidth=9.0, kernel="box", n_bootstrap=20)
    assert any("single row" in m for m in _diagnostics(evaluate_continuous_policy, log[[0]], c[:1], **one_row)[1])
    out, msgs = _diagnostics(evaluate_continuous_policy, log[[0]], c[:1], warn=False, **one_row)
    assert msgs == [] and out[["ci_low", "ci_high", "se"]].isna().all().all()
    one_unit = ContinuousBanditLog(action=log.action, reward=log.reward, density=log.density, a_min=1, a_max=10,
                                   unit_id=np.zeros(50, int))
    kw = dict(bandwidth=1.0, n_bootstrap=20, resampling="multinomial")
    assert any("single unit" in m for m in _diagnostics(evaluate_continuous_policy, one_unit, c, **kw)[1])
    out, msgs = _diagnostics(evaluate_continuous_policy, one_unit, c, warn=False, **kw)
    assert msgs == [] and out[["ci_low", "ci_high", "se"]].isna().all().all()
