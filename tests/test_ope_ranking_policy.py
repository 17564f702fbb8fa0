"""A ranking target for logs with several slots: ``GreedyRankingPolicy`` and ``fit_reward_scorer(position="all")``.

Checked on hand-computed rankings (2-D and 3-D scores, ties, -inf, epsilon), on the structure of every list
(distinct actions, each slot a distribution), against the textbook per-slot IPS formula, against
``position=p`` (exact parity), against a known truth (a simulated log with a slot effect), on the Open Bandit
sample's shape, and on bad input. Also: ``DeterministicPolicy``'s short repr.

The module is imported as ``ope`` (not ``from ... import GreedyRankingPolicy``) so that, on the code before
the ranking policy existed, each test fails on its own rather than the whole file failing to import.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

import workbench.ope as ope
from workbench import ValidationError
from workbench.data import BanditLog, load_open_bandit, simulate_bandit

K, D, P = 5, 3, 3
SLOT_EFFECT = np.array([1.0, 0.6, 0.3])  # click rate multiplier of each slot


def _fixed(scores):
    """A scorer that ignores the contexts and returns ``scores`` (one row per context row)."""
    scores = np.asarray(scores, dtype=float)
    return lambda X: scores


def _lists(dist):
    """(n, P): the action each slot plays (the argmax of each slot's distribution)."""
    return dist.argmax(axis=1)


@pytest.fixture(scope="module")
def slotted():
    """A simulated log shown in 3 slots, with the truth q(x, a, slot) = q(x, a) * SLOT_EFFECT[slot].

    As on the Open Bandit sample, the logger is uniform random: it draws the action whatever the slot (the
    slot is drawn uniformly), so the logged propensity is 1 / K at any slot.
    """
    n = 4000
    base, truth = simulate_bandit(n, n_actions=K, dim_context=D, behavior="uniform", random_state=3)
    rng = np.random.default_rng(3)
    position = rng.integers(0, P, n)
    q3 = truth.expected_reward[:, :, None] * SLOT_EFFECT  # (n, K, P)
    reward = (rng.random(n) < q3[np.arange(n), base.action, position]).astype(float)
    log = BanditLog(action=base.action, reward=reward, propensity=base.propensity, n_actions=K, context=base.context,
                    position=position, n_positions=P)
    half = n // 2
    return log[:half], log[half:], q3[half:], base.behavior_dist[half:]


def _true_value(dist3, q3, position):
    """The true value of a per-slot target on rows whose slot is ``position``: mean of sum_a pi(a|x, s) q(x, a, s)."""
    rows = np.arange(q3.shape[0])
    return float((dist3[rows, :, position] * q3[rows, :, position]).sum(axis=1).mean())


# -- hand-computed rankings -----------------------------------------------------------------------------------
def test_two_d_scores_rank_the_top_actions_with_ties_to_the_lowest_index():
    scores = [[0.1, 0.4, 0.3, 0.2],
              [0.5, 0.5, 0.0, 0.5],   # a three-way tie for the top
              [1.0, 1.0, 1.0, 1.0],   # all tied
              [-3.0, 2.0, 2.0, -1.0]]
    dist = ope.GreedyRankingPolicy(_fixed(scores), n_positions=3).action_dist(np.zeros((4, 1)))
    assert dist.shape == (4, 4, 3)
    assert _lists(dist).tolist() == [[1, 2, 3], [0, 1, 3], [0, 1, 2], [1, 2, 3]]
    assert set(np.unique(dist)) == {0.0, 1.0}
    one = ope.GreedyRankingPolicy(_fixed(scores), n_positions=1).action_dist(np.zeros((4, 1)))
    assert np.array_equal(one[:, :, 0], ope.GreedyPolicy(_fixed(scores)).action_dist(np.zeros((4, 1))))


def test_three_d_scores_rank_each_slot_by_its_own_scores_among_the_actions_left():
    s = np.zeros((3, 4, 2))
    s[0, :, 0], s[0, :, 1] = [0.1, 0.9, 0.5, 0.2], [0.3, 0.8, 0.7, 0.1]  # slot 1's top (1) is taken: next is 2
    s[1, :, 0], s[1, :, 1] = [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0]  # slot 1 prefers another action: 3
    s[2, :, 0], s[2, :, 1] = [0.0, 2.0, 2.0, 0.0], [0.0, 9.0, 9.0, 0.0]  # ties in both slots: 1, then 2
    dist = ope.GreedyRankingPolicy(_fixed(s)).action_dist(np.zeros((3, 1)))  # 2 slots from the scores
    assert dist.shape == (3, 4, 2)
    assert _lists(dist).tolist() == [[1, 2], [0, 3], [1, 2]]


def test_three_d_scores_with_one_slot_are_the_same_scores_in_every_slot():
    s = np.array([[0.1, 0.4, 0.3, 0.2]])
    a = ope.GreedyRankingPolicy(_fixed(s[:, :, None]), n_positions=3).action_dist(np.zeros((1, 1)))
    b = ope.GreedyRankingPolicy(_fixed(s), n_positions=3).action_dist(np.zeros((1, 1)))
    assert np.array_equal(a, b) and _lists(a).tolist() == [[1, 2, 3]]


def test_actions_scored_minus_inf_are_placed_last_and_never_twice():
    # a classifier's unseen actions score -inf: once the finite ones are placed, the lowest remaining index
    # comes next, not an action already in the list (masked to -inf too)
    s = np.array([[-np.inf, 1.0, -np.inf, -np.inf],
                  [np.inf, -np.inf, 0.0, np.inf]])
    dist = ope.GreedyRankingPolicy(_fixed(s), n_positions=4).action_dist(np.zeros((2, 1)))
    assert _lists(dist).tolist() == [[1, 0, 2, 3], [0, 3, 2, 1]]
    # a row where every action is ruled out has no best action: refused, as GreedyPolicy refuses it (the
    # ranking was the lowest indices, actions the scorer ruled out)
    s3 = np.vstack([s, np.full((1, 4), -np.inf)])
    with pytest.raises(ValidationError, match=r"scorer: scores every action -inf.*first at row 2"):
        ope.GreedyRankingPolicy(_fixed(s3), n_positions=4).action_dist(np.zeros((3, 1)))


def test_epsilon_mixes_epsilon_over_n_actions_into_every_slot():
    scores = [[0.1, 0.4, 0.3, 0.2]]
    dist = ope.GreedyRankingPolicy(_fixed(scores), n_positions=2, epsilon=0.2).action_dist(np.zeros((1, 1)))
    assert np.allclose(dist[0, :, 0], [0.05, 0.85, 0.05, 0.05], rtol=0, atol=1e-15)
    assert np.allclose(dist[0, :, 1], [0.05, 0.05, 0.85, 0.05], rtol=0, atol=1e-15)
    uniform = ope.GreedyRankingPolicy(_fixed(scores), n_positions=2, epsilon=1).action_dist(np.zeros((1, 1)))
    assert np.array_equal(uniform, np.full((1, 4, 2), 0.25))


@pytest.mark.parametrize("per_slot", [False, True])
def test_every_list_has_distinct_actions_and_every_slot_sums_to_one(per_slot):
    rng = np.random.default_rng(0)
    n, k = 3000, 6
    s = rng.integers(0, 3, (n, k, k) if per_slot else (n, k)).astype(float)  # many ties
    dist = ope.GreedyRankingPolicy(_fixed(s), n_positions=k).action_dist(np.zeros((n, 1)))  # a full permutation
    assert np.array_equal(dist.sum(axis=1), np.ones((n, k)))
    assert np.array_equal(np.sort(_lists(dist), axis=1), np.tile(np.arange(k), (n, 1)))
    if not per_slot:  # one score per action: the list is the stable descending sort of the scores
        assert np.array_equal(_lists(dist), np.argsort(-s, axis=1, kind="stable"))
    eps = ope.GreedyRankingPolicy(_fixed(s), n_positions=k, epsilon=0.3).action_dist(np.zeros((n, 1)))
    assert np.allclose(eps.sum(axis=1), 1.0, rtol=0, atol=1e-12) and eps.min() == pytest.approx(0.05)


# -- estimators read it per slot ------------------------------------------------------------------------------
def test_ips_of_the_ranking_is_the_textbook_per_slot_formula_on_the_open_bandit_sample():
    log = load_open_bandit("random")[:3000]
    W = np.random.default_rng(1).standard_normal((log.context.shape[1], log.n_actions))
    policy = ope.GreedyRankingPolicy(lambda X: X @ W, epsilon=0.1)  # a context-dependent ranking of 80 items
    dist = policy.action_dist(log)
    assert dist.shape == (3000, 80, 3)
    rows = np.arange(len(log))
    textbook = np.mean(dist[rows, log.action, log.position] / log.propensity * log.reward)
    assert ope.InverseProbabilityWeighting().estimate_policy_value(log, policy) == pytest.approx(textbook, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few clicks: the diagnostics warning is expected here
        out = ope.evaluate_policy(log, policy, estimators=["ips", "dr"], reward_model=np.zeros((3000, 80, 3)),
                                  n_bootstrap=20)
    assert out["value"].iloc[0] == pytest.approx(textbook, rel=1e-12)
    assert out["value"].iloc[1] == pytest.approx(textbook, rel=1e-12)  # DR with q = 0 is IPS


# -- the reward model's scores of every slot ------------------------------------------------------------------
@pytest.mark.parametrize("model, interactions, features", [(Ridge(), True, "onehot"),
                                                           (LogisticRegression(), False, "onehot"),
                                                           (Ridge(), None, "context")])
def test_position_all_equals_position_p_slot_by_slot(slotted, model, interactions, features):
    train, test, _, _ = slotted
    if features == "context":  # action embeddings on both logs
        emb = np.random.default_rng(0).standard_normal((K, 2))
        train = BanditLog(action=train.action, reward=train.reward, propensity=train.propensity, n_actions=K,
                          context=train.context, position=train.position, n_positions=P, action_context=emb)
    every = ope.fit_reward_scorer(train, model, interactions=interactions, action_features=features, position="all")
    assert every.position == "all" and every.n_positions == P
    got = every(test.context)
    assert got.shape == (len(test), K, P)
    for p in range(P):
        one = ope.fit_reward_scorer(train, model, interactions=interactions, action_features=features, position=p)
        assert np.array_equal(got[:, :, p], one(test.context))


def test_position_all_on_a_one_slot_log_is_one_slice_and_the_ranking_is_the_greedy_policy():
    log, _ = simulate_bandit(2000, n_actions=K, dim_context=D, random_state=0)
    train, test = log[:1000], log[1000:]
    scorer = ope.fit_reward_scorer(train, Ridge(), position="all")
    assert np.array_equal(scorer(test)[:, :, 0], ope.fit_reward_scorer(train, Ridge())(test))
    assert repr(scorer).endswith("position='all' (1 slot), action_features='onehot', interactions=True)")
    ranking = ope.GreedyRankingPolicy.from_reward_model(train, Ridge())
    greedy = ope.GreedyPolicy.from_reward_model(train, Ridge())
    assert np.array_equal(ranking.action_dist(test), greedy.action_dist(test)[:, :, None])
    assert np.array_equal(ranking.action_dist(test.context), greedy.action_dist(test)[:, :, None])
    a = ope.evaluate_policy(test, ranking, estimators=["ips", "dr"], n_bootstrap=20)
    b = ope.evaluate_policy(test, greedy, estimators=["ips", "dr"], n_bootstrap=20)
    assert np.array_equal(a["value"], b["value"])


def test_the_fitted_ranking_beats_the_logger_in_true_value_and_nears_the_oracle_ranking(slotted):
    train, test, q3, behavior = slotted
    ranking = ope.GreedyRankingPolicy.from_reward_model(train, LogisticRegression(), interactions=True)
    assert repr(ranking.scorer).startswith("RewardModelScorer(LogisticRegression, 5 actions, 3 features, "
                                           "position='all' (3 slots)")
    dist = ranking.action_dist(test)
    assert dist.shape == (len(test), K, P)
    logger = _true_value(np.repeat(behavior[:, :, None], P, axis=2), q3, test.position)
    oracle = _true_value(ope.GreedyRankingPolicy(_fixed(q3)).action_dist(test), q3, test.position)
    value = _true_value(dist, q3, test.position)
    assert value > logger + 0.08  # measured: 0.299 against the uniform logger's 0.200
    assert oracle - value < 0.01  # the best list of every row (the truth's ranking) gives 0.304
    # and IPS, which sees only the logged slot of each row, finds it within 3 standard errors (measured 0.333)
    rows = np.arange(len(test))
    terms = dist[rows, test.action, test.position] / test.propensity * test.reward
    est = ope.InverseProbabilityWeighting().estimate_policy_value(test, ranking)
    assert abs(est - value) < 3 * terms.std() / np.sqrt(len(test))


def test_the_scorer_of_every_slot_refuses_a_log_with_other_slots(slotted):
    train, test, _, _ = slotted
    scorer = ope.fit_reward_scorer(train, Ridge(), position="all")
    flat = BanditLog(action=test.action, reward=test.reward, propensity=test.propensity, n_actions=K,
                     context=test.context)
    with pytest.raises(ValidationError, match=r"^n_positions: is 1 in the log but the reward model \(position='all'\) "
                                              r"was fitted on 3"):
        scorer(flat)
    with pytest.raises(ValidationError, match=r"^scorer: returned scores for 3 positions \(axis 2\), the log has 1"):
        ope.GreedyRankingPolicy(scorer).action_dist(flat)


# -- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, pattern", [
    ({"epsilon": -0.1}, r"^epsilon: must be in \[0, 1\]"),
    ({"epsilon": 1.5}, r"^epsilon: must be in \[0, 1\]"),
    ({"epsilon": "0.1"}, r"^epsilon: must be a finite number"),
    ({"epsilon": np.nan}, r"^epsilon: must be a finite number"),
    ({"n_positions": 0}, r"^n_positions: must be an integer >= 1"),
    ({"n_positions": 2.5}, r"^n_positions: must be an integer"),
    ({"n_positions": True}, r"^n_positions: must be an integer"),
    ({"n_positions": "3"}, r"^n_positions: must be an integer"),
])
def test_bad_parameters_are_refused_by_name(kwargs, pattern):
    with pytest.raises(ValidationError, match=pattern):
        ope.GreedyRankingPolicy(_fixed([[0.0, 1.0]]), **kwargs)


def test_the_number_of_slots_must_be_known_consistent_and_at_most_the_actions(slotted):
    _, test, _, _ = slotted
    X = np.zeros((2, 1))
    with pytest.raises(ValidationError, match=r"^n_positions: is needed when the policy is given contexts"):
        ope.GreedyRankingPolicy(_fixed(np.ones((2, 4)))).action_dist(X)
    with pytest.raises(ValidationError, match=r"^n_positions: is 5 but there are 4 actions"):
        ope.GreedyRankingPolicy(_fixed(np.ones((2, 4))), n_positions=5).action_dist(X)
    with pytest.raises(ValidationError, match=r"^n_positions: is 5 but there are 4 actions"):
        ope.GreedyRankingPolicy(_fixed(np.ones((2, 4, 5)))).action_dist(X)
    with pytest.raises(ValidationError, match=r"^scorer: returned scores for 2 positions \(axis 2\), the policy has 3"):
        ope.GreedyRankingPolicy(_fixed(np.ones((2, 4, 2))), n_positions=3).action_dist(X)
    q = np.ones((len(test), K))
    with pytest.raises(ValidationError, match=r"^n_positions: is 2 but the log has 3 positions"):
        ope.GreedyRankingPolicy(_fixed(q), n_positions=2).action_dist(test)
    with pytest.raises(ValidationError, match=r"^scorer: returned scores for 2 positions \(axis 2\), the log has 3"):
        ope.GreedyRankingPolicy(_fixed(np.ones((len(test), K, 2)))).action_dist(test)
    few = BanditLog(action=[0, 1, 1], reward=[1.0, 0.0, 1.0], propensity=[0.5] * 3, n_actions=2,
                    context=np.zeros((3, 1)), position=[0, 1, 2], n_positions=3)
    with pytest.raises(ValidationError, match=r"^n_positions: is 3 but there are 2 actions"):
        ope.GreedyRankingPolicy(_fixed(np.ones((3, 2)))).action_dist(few)


@pytest.mark.parametrize("scores, pattern", [
    (np.ones((2, 4, 3, 1)), r"^scorer: must return scores of shape \(n, n_actions\) or \(n, n_actions, n_positions\)"),
    (np.ones(2), r"^scorer: must return scores of shape"),
    (np.ones((3, 4)), r"^scorer: returned scores for 3 rows, given 2 rows of contexts"),
    (np.array([[0.0, np.nan, 1.0, 2.0], [0.0, 1.0, 2.0, 3.0]]), r"^scorer: returned NaN scores"),
    (np.full((2, 4, 2), np.nan), r"^scorer: returned NaN scores"),
    (np.array([["a", "b"], ["c", "d"]]), r"^scorer: must return numeric scores"),
])
def test_bad_scores_are_refused_by_name(scores, pattern):
    with pytest.raises(ValidationError, match=pattern):
        ope.GreedyRankingPolicy(lambda X: scores, n_positions=2).action_dist(np.zeros((2, 1)))


class _NoFit:
    def fit(self, X, y):
        raise AssertionError("the model was fitted before the parameters were checked")


def test_from_reward_model_checks_epsilon_before_fitting_and_the_one_slot_policies_refuse_all(slotted):
    train = slotted[0]
    with pytest.raises(ValidationError, match=r"^epsilon: must be in \[0, 1\]"):
        ope.GreedyRankingPolicy.from_reward_model(train, _NoFit(), epsilon=2.0)
    for make in (lambda: ope.GreedyPolicy.from_reward_model(train, _NoFit(), position="all"),
                 lambda: ope.EpsilonGreedyPolicy.from_reward_model(train, _NoFit(), position="all"),
                 lambda: ope.SoftmaxPolicy.from_reward_model(train, _NoFit(), temperature=0.1, position="all")):
        with pytest.raises(ValidationError, match=r"^position: 'all' scores every slot.*GreedyRankingPolicy"):
            make()
    with pytest.raises(ValidationError, match=r"^position: must be an integer in \[0, 2\] or 'all', got 'first'"):
        ope.fit_reward_scorer(train, Ridge(), position="first")
    scorer = ope.fit_reward_scorer(train, Ridge(), position="all")
    with pytest.raises(ValidationError, match=r"^scorer: must return scores of shape \(n, n_actions\), got "
                                              r"\(2000, 5, 3\). Per-slot scores .* are ranked by GreedyRankingPolicy"):
        ope.GreedyPolicy(scorer).action_dist(slotted[1])


# -- DeterministicPolicy's repr ---------------------------------------------------------------------------------
def _rule(X):
    return (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("actions, shown", [
    (np.zeros(100_000, dtype=int), "<ndarray of shape (100000,)>"),
    (list(range(500)), "<list of shape (500,)>"),
    ([[0, 1], [1]], "<list of length 2>"),
    (np.int64(2), "2"),  # a plain 2 printed 2 before too; numpy's scalar printed np.int64(2)
    (np.array(2), "2"),
    (_rule, "<function _rule>"),
    (lambda X: X[:, 0], "<function <lambda>>"),
])
def test_deterministic_policy_repr_is_short(actions, shown):
    assert repr(ope.DeterministicPolicy(actions, n_actions=3)) == f"DeterministicPolicy(actions={shown}, n_actions=3)"


@pytest.mark.parametrize("n_positions", [1, 2])
def test_predicting_every_slot_without_the_action_context_it_needs_is_a_validation_error(n_positions):
    # the slot indicators' column offset read action_context's width before design_matrix had checked it:
    # a bare IndexError instead of the ValidationError naming action_context
    from sklearn.linear_model import Ridge

    from workbench._validation import ValidationError
    from workbench.data import BanditLog, simulate_bandit
    from workbench.ope.reward_models import predict_all_actions

    log, _ = simulate_bandit(200, n_actions=3, random_state=0)
    if n_positions > 1:
        log = BanditLog(action=log.action, reward=log.reward, propensity=log.propensity, n_actions=3,
                        context=log.context, position=np.arange(200) % 2, n_positions=2)
    model = Ridge().fit(np.random.default_rng(0).random((5, 15)), np.arange(5.0))
    with pytest.raises(ValidationError, match="action_context: is needed by action_features='context'"):
        predict_all_actions(model, log, np.arange(5), action_features="context")
