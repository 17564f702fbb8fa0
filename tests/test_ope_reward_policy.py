"""Target policies from a fitted reward model: ``fit_reward_scorer`` and ``*Policy.from_reward_model``.

Checked against the simulator's truth (the greedy choice, its true value against the logger's), against a
manual fit + predict on ``design_matrix`` (exact parity), on logs with slots, on bad inputs, and inside
``evaluate_policy``.
"""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeRegressor

from workbench import ValidationError
from workbench.data import BanditLog, simulate_bandit
from workbench.ope import (EpsilonGreedyPolicy, GreedyPolicy, RewardModelScorer, SoftmaxPolicy, design_matrix,
                           evaluate_policy, fit_reward_scorer)

N, K, D = 4000, 4, 3


@pytest.fixture(scope="module")
def sim():
    log, truth = simulate_bandit(N, n_actions=K, dim_context=D, random_state=0)
    half = N // 2
    # i.i.d. rows: the halves are a random split, and the truth of the test rows is a slice
    return log[:half], log[half:], truth.expected_reward[half:]


def _true_value(dist, q):
    return float((dist * q).sum(axis=1).mean())


def _slotted_log(n=1500, n_pos=3, seed=1):
    """A simulated log shown in ``n_pos`` slots, with a slot effect on the click rate."""
    base, truth = simulate_bandit(n, n_actions=K, dim_context=D, random_state=seed)
    rng = np.random.default_rng(seed)
    position = rng.integers(0, n_pos, n)
    q = truth.expected_reward[np.arange(n), base.action] * np.array([1.0, 0.6, 0.3])[position]
    reward = (rng.random(n) < q).astype(float)
    return BanditLog(action=base.action, reward=reward, propensity=base.propensity, n_actions=K, context=base.context,
                     position=position, n_positions=n_pos)


def _manual(model, log, X, position, n_pos, interactions, action_features="onehot"):
    """Fit ``model`` on design_matrix of every row of ``log``; predict every action for contexts X."""
    pos = np.zeros(len(log), dtype=int) if log.position is None else log.position
    fitted = clone(model).fit(design_matrix(log.context, log.action, pos, K, n_pos, log.action_context, action_features,
                                     interactions), log.reward)
    m = X.shape[0]
    cols = []
    for a in range(K):
        Xa = design_matrix(X, np.full(m, a), np.full(m, position), K, n_pos, log.action_context, action_features,
                           interactions)
        cols.append(fitted.predict_proba(Xa) @ fitted.classes_ if hasattr(fitted, "predict_proba")
                    else fitted.predict(Xa))
    return np.column_stack(cols)


# -- against the truth ---------------------------------------------------------------------------------------
def test_greedy_from_a_well_specified_model_finds_the_best_action_and_beats_the_logger(sim):
    train, test, q = sim
    # binary rewards are sigmoid(x' B e_a + c_a - 1): a logistic model with per-action slopes is well specified
    greedy = GreedyPolicy.from_reward_model(train, LogisticRegression(), interactions=True)
    dist = greedy.action_dist(test)
    assert np.mean(dist.argmax(axis=1) == q.argmax(axis=1)) > 0.85
    value, logger, oracle = _true_value(dist, q), _true_value(test.behavior_dist, q), float(q.max(axis=1).mean())
    assert value > logger + 0.05  # 0.462 against 0.377
    assert oracle - value < 0.01  # the best action of every row gives 0.465


def test_a_model_fitted_on_the_evaluation_rows_is_over_rated_and_a_split_is_not(sim):
    # the pitfall the docstrings state: a tree fitted on the rows it is evaluated on steers to the
    # actions that happened to be rewarded there, and IPS / DR see a value far above the truth
    train, test, q = sim
    tree = DecisionTreeRegressor(min_samples_leaf=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fit_on, lo, hi in [(train, -0.05, 0.05), (test, 0.2, 0.4)]:
            policy = GreedyPolicy.from_reward_model(fit_on, tree)
            truth = _true_value(policy.action_dist(test), q)
            out = evaluate_policy(test, policy, estimators=["ips", "dr"], n_bootstrap=20)
            assert (lo < out["value"] - truth).all() and (out["value"] - truth < hi).all(), (out["value"], truth)


# -- parity with a manual fit on design_matrix ---------------------------------------------------------------
@pytest.mark.parametrize("model", [Ridge(alpha=0.5), LogisticRegression(C=0.7)], ids=["ridge", "logistic"])
@pytest.mark.parametrize("interactions", [True, False])
def test_predictions_equal_a_manual_fit_and_predict_on_design_matrix(sim, model, interactions):
    train, test, _ = sim
    scorer = fit_reward_scorer(train, model, interactions=interactions)
    expected = _manual(model, train, test.context, 0, None, interactions)
    assert np.array_equal(scorer(test.context), expected)
    assert np.array_equal(scorer(test), expected)  # a log is scored on its context
    assert scorer.interactions is interactions and scorer.position == 0 and scorer.n_positions is None
    assert not hasattr(model, "coef_")  # the argument is cloned, not fitted


def test_action_embeddings_give_the_same_predictions_as_a_manual_fit():
    log, _ = simulate_bandit(1000, n_actions=K, dim_context=D, dim_action_context=2, random_state=3)
    scorer = fit_reward_scorer(log, Ridge(), action_features="context", interactions=True)
    X = np.random.default_rng(0).standard_normal((50, D))
    assert np.array_equal(scorer(X), _manual(Ridge(), log, X, 0, None, True, action_features="context"))


def test_interactions_none_is_resolved_as_the_cross_fitted_models_resolve_it(sim):
    train, _, _ = sim
    assert fit_reward_scorer(train, Ridge()).interactions is True  # 3 x 4 columns: few
    wide = BanditLog(action=train.action, reward=train.reward, propensity=train.propensity, n_actions=K,
                     context=np.tile(train.context, 30))  # 90 x 4 = 360 > 256 columns
    assert fit_reward_scorer(wide, Ridge()).interactions is False


# -- slots ---------------------------------------------------------------------------------------------------
def test_the_scorer_predicts_the_requested_slot_of_a_model_fitted_on_every_slot():
    log = _slotted_log()
    X = np.random.default_rng(2).standard_normal((40, D))
    by_slot = []
    for p in range(3):
        scorer = fit_reward_scorer(log, Ridge(), interactions=True, position=p)
        assert scorer.position == p and scorer.n_positions == 3
        got = scorer(X)
        assert np.array_equal(got, _manual(Ridge(), log, X, p, 3, True))
        by_slot.append(got)
    # the slot enters as an indicator: the same ranking of actions, lower click rates further down
    assert np.allclose(by_slot[0] - by_slot[1], (by_slot[0] - by_slot[1])[0, 0])
    assert (by_slot[0] > by_slot[1]).all() and (by_slot[1] > by_slot[2]).all()


def test_a_log_with_several_slots_needs_a_position_in_range():
    log = _slotted_log()
    with pytest.raises(ValidationError, match=r"^position: is needed: the training log has 3 positions"):
        fit_reward_scorer(log, Ridge())
    with pytest.raises(ValidationError, match=r"^position: is needed"):
        GreedyPolicy.from_reward_model(log, Ridge())
    for bad in (3, -1, 1.5, True, "0"):
        with pytest.raises(ValidationError, match=r"^position: must be an integer"):
            fit_reward_scorer(log, Ridge(), position=bad)


def test_a_log_with_one_slot_takes_position_0_or_none_only(sim):
    train, test, _ = sim
    assert np.array_equal(fit_reward_scorer(train, Ridge(), position=0)(test), fit_reward_scorer(train, Ridge())(test))
    with pytest.raises(ValidationError, match=r"^position: must be an integer in \[0, 0\], got 1"):
        fit_reward_scorer(train, Ridge(), position=1)


def test_a_slotted_policy_is_evaluated_as_the_same_distribution_in_every_slot():
    log = _slotted_log()
    train, test = log[:1000], log[1000:]
    greedy = GreedyPolicy.from_reward_model(train, Ridge(), interactions=True, position=0)
    dist = greedy.action_dist(test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = evaluate_policy(test, greedy, estimators=["ips", "dr"], n_bootstrap=20)
        b = evaluate_policy(test, dist[:, :, None], estimators=["ips", "dr"], n_bootstrap=20)
    assert np.array_equal(a["value"], b["value"])


# -- bad input -----------------------------------------------------------------------------------------------
def test_a_class_instead_of_an_instance_is_refused_by_name(sim):
    train, _, _ = sim
    with pytest.raises(ValidationError, match=r"^model: must be an estimator instance, got the class Ridge\. Pass"):
        fit_reward_scorer(train, Ridge)
    with pytest.raises(ValidationError, match=r"^model: must be an estimator instance"):
        GreedyPolicy.from_reward_model(train, LogisticRegression)
    with pytest.raises(ValidationError, match=r"^model: must be a scikit-learn estimator, got str"):
        fit_reward_scorer(train, "ridge")


def test_contexts_of_the_wrong_width_or_not_finite_are_refused_by_field(sim):
    train, test, _ = sim
    scorer = fit_reward_scorer(train, Ridge())
    with pytest.raises(ValidationError, match=r"^contexts: must have 3 columns \(features\).*got 2"):
        scorer(test.context[:, :2])
    with pytest.raises(ValidationError, match=r"^contexts: must be 2-D"):
        scorer(test.context[0])
    X = test.context[:10].copy()
    X[4, 1] = np.nan
    with pytest.raises(ValidationError, match=r"^contexts: must be finite \(no NaN or inf\); 1 of 10 rows breaks "
                                              r"the rule, first at row 4"):
        scorer(X)
    with pytest.raises(ValidationError, match=r"^contexts: must be convertible|^contexts: must be numeric"):
        scorer([["a", "b", "c"]])
    # through a policy, the policy's own check names the contexts first
    with pytest.raises(ValidationError, match=r"^contexts: must be finite"):
        GreedyPolicy(scorer).action_dist(X)
    with pytest.raises(ValidationError, match=r"^contexts: must have 3 columns"):
        GreedyPolicy(scorer).action_dist(test.context[:, :2])


def test_a_log_that_does_not_match_the_training_log_is_refused(sim):
    train, test, _ = sim
    scorer = fit_reward_scorer(train, Ridge())
    narrow = BanditLog(action=test.action, reward=test.reward, propensity=test.propensity, n_actions=K,
                       context=test.context[:, :2])
    with pytest.raises(ValidationError, match=r"^context: must have 3 columns"):
        scorer(narrow)
    with pytest.raises(ValidationError, match=r"^contexts: must have 3 columns"):  # the policy passes the array
        GreedyPolicy(scorer).action_dist(narrow)
    more = BanditLog(action=test.action, reward=test.reward, propensity=test.propensity, n_actions=K + 1,
                     context=test.context)
    with pytest.raises(ValidationError, match=r"^n_actions: is 5 in the log but the reward model was fitted on 4"):
        scorer(more)
    no_ctx = BanditLog(action=test.action, reward=test.reward, propensity=test.propensity, n_actions=K)
    with pytest.raises(ValidationError, match=r"^context: is needed"):
        scorer(no_ctx)


def test_other_action_embeddings_than_the_training_ones_are_refused():
    log, _ = simulate_bandit(600, n_actions=K, dim_context=D, dim_action_context=2, random_state=3)
    scorer = fit_reward_scorer(log, Ridge(), action_features="context")
    assert scorer(log).shape == (600, K)
    other = BanditLog(action=log.action, reward=log.reward, propensity=log.propensity, context=log.context,
                      action_context=log.action_context + 1.0)
    with pytest.raises(ValidationError, match=r"^action_context: differs from the training log's"):
        scorer(other)


def test_bad_training_logs_and_options_are_refused_before_fitting(sim):
    train, _, _ = sim
    with pytest.raises(ValidationError, match=r"^log: must be a workbench.data.BanditLog"):
        fit_reward_scorer(train.context, Ridge())
    no_ctx = BanditLog(action=train.action, reward=train.reward, propensity=train.propensity, n_actions=K)
    with pytest.raises(ValidationError, match=r"^context: is needed.*DeterministicPolicy"):
        fit_reward_scorer(no_ctx, Ridge())
    with pytest.raises(ValidationError, match=r"^action_features: must be one of"):
        fit_reward_scorer(train, Ridge(), action_features="embedding")
    with pytest.raises(ValidationError, match=r"^action_features: 'context' needs log.action_context"):
        fit_reward_scorer(train, Ridge(), action_features="context")
    with pytest.raises(ValidationError, match=r"^interactions: must be True or False or None"):
        fit_reward_scorer(train, Ridge(), interactions="no")
    ones = BanditLog(action=train.action, reward=np.ones(len(train)), propensity=train.propensity, n_actions=K,
                     context=train.context)
    with pytest.raises(ValidationError, match=r"^model: could not be fitted on the training log"):
        fit_reward_scorer(ones, LogisticRegression())


class _NoFit(Ridge):
    def fit(self, X, y):  # noqa: D102  (fails the test if the policy's own parameters are not checked first)
        raise AssertionError("fitted before the policy's parameters were checked")


@pytest.mark.parametrize("make", [
    lambda log: EpsilonGreedyPolicy.from_reward_model(log, _NoFit(), epsilon=1.5),
    lambda log: EpsilonGreedyPolicy.from_reward_model(log, _NoFit(), epsilon="0.1"),
    lambda log: SoftmaxPolicy.from_reward_model(log, _NoFit(), temperature=0.0),
    lambda log: SoftmaxPolicy.from_reward_model(log, _NoFit(), temperature="1"),
], ids=["epsilon>1", "epsilon-str", "temperature-0", "temperature-str"])
def test_policy_parameters_are_checked_before_the_model_is_fitted(sim, make):
    with pytest.raises(ValidationError, match=r"^(epsilon|temperature): must"):
        make(sim[0])


def test_softmax_from_a_reward_model_needs_a_temperature(sim):
    # the scores are expected rewards: temperature 1 (SoftmaxPolicy's default) is all but uniform on them
    with pytest.raises(TypeError, match="temperature"):
        SoftmaxPolicy.from_reward_model(sim[0], Ridge())


# -- the policies ---------------------------------------------------------------------------------------------
def test_the_three_policies_are_their_classes_on_the_fitted_scorer(sim):
    train, test, _ = sim
    q_hat = fit_reward_scorer(train, LogisticRegression())(test)
    greedy = GreedyPolicy.from_reward_model(train, LogisticRegression())
    eps = EpsilonGreedyPolicy.from_reward_model(train, LogisticRegression(), epsilon=0.2)
    soft = SoftmaxPolicy.from_reward_model(train, LogisticRegression(), temperature=0.05)
    assert isinstance(greedy.scorer, RewardModelScorer) and eps.epsilon == 0.2 and soft.temperature == 0.05
    onehot = np.eye(K)[q_hat.argmax(axis=1)]
    assert np.array_equal(greedy.action_dist(test), onehot)
    assert np.allclose(eps.action_dist(test), 0.8 * onehot + 0.05, rtol=0, atol=1e-15)
    assert np.allclose(soft.action_dist(test), softmax(q_hat / 0.05, axis=1), rtol=1e-12, atol=0)


def test_the_policies_work_in_evaluate_policy(sim):
    train, test, q = sim
    policies = [GreedyPolicy.from_reward_model(train, LogisticRegression()),
                EpsilonGreedyPolicy.from_reward_model(train, LogisticRegression(), epsilon=0.1),
                SoftmaxPolicy.from_reward_model(train, Ridge(), temperature=0.02)]
    for policy in policies:
        out = evaluate_policy(test, policy, estimators=["ips", "dr"], n_bootstrap=50, random_state=0)
        dist = policy.action_dist(test)
        rows = np.arange(len(test))
        ips = np.mean(dist[rows, test.action] / test.propensity * test.reward)
        assert out["value"].iloc[0] == pytest.approx(ips, rel=1e-12)
        assert abs(out["value"] - _true_value(dist, q)).max() < 0.03


def test_the_scorer_pickles_and_takes_zero_rows(sim):
    train, test, _ = sim
    scorer = fit_reward_scorer(train, LogisticRegression())
    again = pickle.loads(pickle.dumps(scorer))  # joblib / Dask workers receive it this way
    assert np.array_equal(again(test), scorer(test))
    assert scorer(np.empty((0, D))).shape == (0, K)
    assert repr(scorer) == ("RewardModelScorer(LogisticRegression, 4 actions, 3 features, action_features='onehot', "
                            "interactions=True)")
