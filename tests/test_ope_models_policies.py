"""Cross-fitted reward models and target policies."""
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeRegressor

import workbench as wb
from workbench.ope import (DeterministicPolicy, EpsilonGreedyPolicy, GreedyPolicy, ModelProbabilityPolicy,
                           SoftmaxPolicy, UniformPolicy, cross_fit_predict, design_matrix)


@pytest.fixture(scope="module")
def sim():
    return wb.data.simulate_bandit(1500, n_actions=3, dim_context=2, reward_type="continuous", random_state=0)


def test_cross_fitting_never_predicts_rows_it_trained_on(sim):
    log, _ = sim
    # A fully grown tree on continuous contexts memorises its training rows: in-sample it would
    # return the observed reward at the logged action exactly. Out of fold it must not.
    q = cross_fit_predict(log, DecisionTreeRegressor(random_state=0), n_folds=5, random_state=0)
    at_logged = q[np.arange(len(log)), log.action]
    assert np.mean(np.isclose(at_logged, log.reward)) < 0.01
    fitted = DecisionTreeRegressor(random_state=0).fit(
        design_matrix(log.context, log.action, None, 3, None, interactions=True), log.reward)
    in_sample = fitted.predict(design_matrix(log.context, log.action, None, 3, None, interactions=True))
    assert np.mean(np.isclose(in_sample, log.reward)) > 0.99  # ...which is what leakage would look like


def test_cross_fit_equals_a_manual_kfold_with_sklearn(sim):
    log, _ = sim
    q = cross_fit_predict(log, LinearRegression(), n_folds=4, interactions=True, random_state=7)
    X = design_matrix(log.context, log.action, None, 3, None, interactions=True)
    manual = np.empty_like(q)
    for train, test in KFold(4, shuffle=True, random_state=7).split(X):
        m = LinearRegression().fit(X[train], log.reward[train])
        for a in range(3):
            manual[test, a] = m.predict(design_matrix(log.context[test], np.full(len(test), a), None, 3, None,
                                                      interactions=True))
    np.testing.assert_allclose(q, manual, rtol=1e-10, atol=1e-12)


def test_classifier_gives_expected_reward_and_slots_are_modelled():
    log = wb.data.load_open_bandit("random", campaign="all")[:3000]
    q = cross_fit_predict(log, LogisticRegression(max_iter=500), n_folds=3, random_state=0)
    assert q.shape == (3000, 80, 3)
    assert ((q > 0) & (q < 1)).all()
    # expected reward of a classifier = predict_proba @ classes_ (here P(click)), close to the click rate
    assert abs(q[np.arange(3000), log.action, log.position].mean() - log.reward.mean()) < 0.002


def test_grouped_folds_when_units_are_known(sim):
    log, _ = sim
    users = np.repeat(np.arange(150), 10)
    g = wb.data.BanditLog(action=log.action, reward=log.reward, propensity=log.propensity, n_actions=3,
                          context=log.context, unit_id=users)
    q = cross_fit_predict(g, DecisionTreeRegressor(random_state=0), n_folds=5, random_state=0)
    assert q.shape == (1500, 3)
    with pytest.raises(wb.ValidationError, match="n_folds"):
        cross_fit_predict(g[:30], LinearRegression(), n_folds=5)


def test_reward_model_as_estimator_equals_passing_its_predictions(sim):
    log, _ = sim
    pe = UniformPolicy().action_dist(log)
    q = cross_fit_predict(log, LinearRegression(), n_folds=5, random_state=0)
    a = wb.ope.evaluate_policy(log, pe, ["dm", "dr"], reward_model=LinearRegression(), n_bootstrap=50, warn=False)
    b = wb.ope.evaluate_policy(log, pe, ["dm", "dr"], reward_model=q, n_bootstrap=50, warn=False)
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-12)
    assert a["reward_model"].iloc[0] == "LinearRegression (cross-fitted)"
    assert b["reward_model"].iloc[0] == "given predictions"


def test_policies_return_distributions():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    scores = X @ rng.standard_normal((3, 3))
    for pol in (UniformPolicy(3), GreedyPolicy(clf), EpsilonGreedyPolicy(clf, 0.2), SoftmaxPolicy(clf),
                SoftmaxPolicy(lambda Z: Z @ np.ones((3, 3)), temperature=0.5), ModelProbabilityPolicy(clf),
                DeterministicPolicy(lambda Z: (Z[:, 0] > 0).astype(int), n_actions=3)):
        d = pol.action_dist(X)
        assert d.shape == (200, 3)
        np.testing.assert_allclose(d.sum(1), 1.0, atol=1e-12)
        assert (d >= 0).all()
    np.testing.assert_allclose(SoftmaxPolicy(clf).action_dist(X), clf.predict_proba(X), rtol=1e-10)
    np.testing.assert_array_equal(GreedyPolicy(clf).action_dist(X).argmax(1), clf.predict(X))
    eg = EpsilonGreedyPolicy(lambda Z: scores, epsilon=0.3).action_dist(X)
    assert np.allclose(eg.max(1), 0.7 + 0.1) and np.allclose(eg.min(1), 0.1)


def test_policies_on_logs_and_their_errors():
    log, _ = wb.data.simulate_bandit(300, n_actions=4, dim_context=2, random_state=1)
    assert UniformPolicy().action_dist(log).shape == (300, 4)
    with pytest.raises(wb.ValidationError, match="n_actions"):
        UniformPolicy().action_dist(np.zeros((5, 2)))
    with pytest.raises(wb.ValidationError, match="4 actions"):
        SoftmaxPolicy(lambda Z: np.zeros((len(Z), 3))).action_dist(log)
    with pytest.raises(wb.ValidationError, match="epsilon"):
        EpsilonGreedyPolicy(lambda Z: Z, epsilon=1.5)
    with pytest.raises(wb.ValidationError, match="actions"):
        DeterministicPolicy(np.full(300, 7)).action_dist(log)
    # a classifier trained on a subset of the actions gives the others probability 0
    clf = LogisticRegression().fit(log.context, log.action % 2)
    d = SoftmaxPolicy(clf).action_dist(log)
    assert d.shape == (300, 4) and (d[:, 2:] == 0).all()


def test_cross_fit_treats_numpy_integers_as_the_same_seed(sim):
    log, _ = sim
    a = cross_fit_predict(log, LinearRegression(), n_folds=3, random_state=5)
    b = cross_fit_predict(log, LinearRegression(), n_folds=3, random_state=np.int64(5))
    assert np.array_equal(a, b)
    with pytest.raises(wb.ValidationError, match="^n_folds: must be an integer"):
        cross_fit_predict(log, LinearRegression(), n_folds=2.5)


@pytest.mark.parametrize("cls", [UniformPolicy, lambda n_actions: DeterministicPolicy(0, n_actions=n_actions)])
@pytest.mark.parametrize("bad", [0, 2.5, float("nan")])
def test_policy_n_actions_must_be_a_positive_integer(cls, bad):
    with pytest.raises(wb.ValidationError, match="^n_actions: must be an integer"):
        cls(n_actions=bad).action_dist(np.zeros((2, 1)))
