"""Options of workbench.ope used together (feature-interaction audit): each test pins a pair that was wrong."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from workbench._validation import ValidationError
from workbench.data import BanditLog, simulate_bandit
from workbench.ope import (GreedyPolicy, GreedyRankingPolicy, ModelProbabilityPolicy, SoftmaxPolicy,
                           fit_reward_scorer)

NAMES = ["age", "income", "tenure"]


def _named_logs():
    log, truth = simulate_bandit(1200, n_actions=4, random_state=0)
    frame = pd.DataFrame(log.context, columns=NAMES)

    def part(rows, cols):
        return BanditLog(action=log.action[rows], reward=log.reward[rows], propensity=log.propensity[rows],
                         n_actions=4, context=frame.iloc[rows][cols])

    first, second = np.arange(600), np.arange(600, 1200)
    return part(first, NAMES), part(second, NAMES), part(second, ["income", "age", "tenure"]), frame.iloc[600:]


def test_scorer_refuses_named_contexts_in_another_column_order():
    # pandas names x fit_reward_scorer: the same features in another column order were scored by position
    # (max |q difference| 0.94 on the probe; a greedy policy's true value fell from 0.46 to 0.27), silently
    train, test, swapped, frame = _named_logs()
    scorer = fit_reward_scorer(train, LogisticRegression())
    assert scorer.context_names == tuple(NAMES)
    expected = scorer(frame.to_numpy())  # unnamed contexts: read by position, as before
    np.testing.assert_array_equal(scorer(test), expected)
    np.testing.assert_array_equal(scorer(frame), expected)  # a frame named as in training
    with pytest.raises(ValidationError, match=r"^context: 3 columns .*another order \(column 0 is 'income', was 'age'\)"):
        scorer(swapped)
    with pytest.raises(ValidationError, match=r"^contexts: .*another order"):
        scorer(frame[["income", "age", "tenure"]])
    with pytest.raises(ValidationError, match=r"named differently"):
        scorer(frame.rename(columns={"age": "years"}))


@pytest.mark.parametrize("make", [
    lambda tr: GreedyPolicy.from_reward_model(tr, LogisticRegression()),
    lambda tr: SoftmaxPolicy.from_reward_model(tr, LogisticRegression(), temperature=0.1),
    lambda tr: GreedyPolicy(LogisticRegression().fit(pd.DataFrame(tr.context, columns=NAMES), tr.action)),
    lambda tr: ModelProbabilityPolicy(LogisticRegression().fit(pd.DataFrame(tr.context, columns=NAMES), tr.action)),
])
def test_policies_refuse_a_log_whose_named_contexts_are_reordered(make):
    # the policies hand the scorer the context array, so the names were lost before any check could see them
    train, test, swapped, _ = _named_logs()
    policy = make(train)
    assert policy.action_dist(test).shape == (600, 4)
    with pytest.raises(ValidationError, match=r"^context: .*another order.*fitted on 3 columns \['age', 'income', 'tenure'\]"):
        policy.action_dist(swapped)


def test_ranking_policy_refuses_reordered_named_contexts():
    train, test, swapped, _ = _named_logs()
    policy = GreedyRankingPolicy.from_reward_model(train, LogisticRegression())
    assert policy.action_dist(test).shape == (600, 4, 1)
    with pytest.raises(ValidationError, match=r"^context: .*another order"):
        policy.action_dist(swapped)


def test_kernel_estimate_refuses_estimators_keyword_by_name():
    # estimator= and estimators= together: a TypeError from evaluate_continuous_policy's signature
    from workbench.data import simulate_pricing
    from workbench.ope import kernel_estimate

    log, truth = simulate_pricing(200, random_state=0)
    with pytest.raises(ValidationError, match=r"^estimators: is not a keyword of kernel_estimate"):
        kernel_estimate(log, truth.optimal_action(), bandwidth=0.5, estimators=["ips", "dr"])
    assert kernel_estimate(log, truth.optimal_action(), bandwidth=0.5, estimator="snips", n_bootstrap=20).name == "snips"


@pytest.mark.parametrize("entry", ["evaluate", "compare", "cdf"])
def test_a_scorer_passed_as_the_policy_is_refused_with_the_wrapping_hint(entry):
    # fit_reward_scorer x evaluate_policy / compare_policies / off_policy_cdf: a scorer (contexts -> scores) given
    # as the target was read as an array: "policy: must be numeric, got an object array (mixed or missing values?)"
    from workbench.ope import UniformPolicy, compare_policies, evaluate_policy, off_policy_cdf

    log, _ = simulate_bandit(300, n_actions=3, random_state=0)
    scorer = fit_reward_scorer(log, LogisticRegression())
    call = {"evaluate": lambda: evaluate_policy(log, scorer, estimators=["ips"], n_bootstrap=20),
            "compare": lambda: compare_policies(log, {"u": UniformPolicy(), "s": scorer}, estimator="ips",
                                                n_bootstrap=20),
            "cdf": lambda: off_policy_cdf(log, scorer, n_bootstrap=20)}[entry]
    with pytest.raises(ValidationError, match=r"policy: must be an action distribution or a policy object with "
                                              r"action_dist\(log\), got a callable RewardModelScorer.*GreedyPolicy"):
        call()


@pytest.mark.parametrize("entry", ["evaluate", "compare", "scorer"])
def test_classifier_reward_model_with_continuous_rewards_is_refused_with_the_rewards_named(entry):
    # classifier x continuous rewards x cross-fitting: "could not be fitted on fold 0 (Unknown label type:
    # continuous ...). A classifier needs both reward values in every training fold; use fewer folds" -- no
    # number of folds helps, and the row whose reward is not a class was not named
    from workbench.ope import UniformPolicy, compare_policies, evaluate_policy

    log, _ = simulate_bandit(300, n_actions=3, reward_type="continuous", random_state=0)
    model = LogisticRegression()
    call = {"evaluate": lambda: evaluate_policy(log, UniformPolicy(), estimators=["dr"], reward_model=model,
                                                n_bootstrap=20),
            "compare": lambda: compare_policies(log, {"a": UniformPolicy(), "b": np.full((300, 3), 1 / 3)},
                                                estimator="dm", reward_model=model, n_bootstrap=20),
            "scorer": lambda: fit_reward_scorer(log, model)}[entry]
    field = "model" if entry == "scorer" else "reward_model"
    with pytest.raises(ValidationError, match=rf"^{field}: is a classifier \(LogisticRegression\).*not whole numbers; "
                                              rf"300 of 300 rows break the rule, first at row 0 .*Use a regressor"):
        call()


def test_classifier_reward_model_with_ratings_still_gives_the_expected_rating():
    # whole-number rewards with several levels stay classes: the expected reward is predict_proba @ classes_
    from workbench.ope import UniformPolicy, cross_fit_predict

    log, _ = simulate_bandit(300, n_actions=3, random_state=0)
    ratings = BanditLog(action=log.action, reward=np.arange(300) % 5 + 1.0, propensity=log.propensity, n_actions=3,
                        context=log.context)
    q = cross_fit_predict(ratings, LogisticRegression(max_iter=500), n_folds=3)
    assert q.shape == (300, 3) and 1.0 < q.min() and q.max() < 5.0
    assert UniformPolicy().action_dist(ratings).shape == (300, 3)


def _purchase_log(n=4000, seed=0):
    from workbench.data import ContinuousBanditLog

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1))
    a = rng.uniform(1, 10, n)
    r = (rng.random(n) < 1 / (1 + np.exp(-(1.5 - 0.35 * a + 0.5 * x[:, 0])))).astype(float)
    log = ContinuousBanditLog(action=a, reward=r, density=np.full(n, 1 / 9), a_min=1, a_max=10, context=x)
    truth = float(np.mean(1 / (1 + np.exp(-(1.5 - 0.35 * 3.0 + 0.5 * x[:, 0])))))  # everyone priced at 3
    return log, truth


def test_continuous_reward_model_reads_a_classifier_as_its_expected_reward():
    # continuous actions x classifier reward model x 0/1 purchases: ContinuousRewardModel used predict, the
    # classifier's hard 0/1 labels, so DM (at the target price, the model well specified) was 0.812
    # [0.802, 0.822] for a truth of 0.603; now 0.599, as cross_fit_predict reads classifiers (predict_proba)
    from workbench.ope import ContinuousRewardModel, evaluate_continuous_policy

    log, truth = _purchase_log()
    out = evaluate_continuous_policy(log, np.full(len(log), 3.0), bandwidth=0.3, estimators=["dm"],
                                     reward_model=LogisticRegression(), dr_direct="center", n_bootstrap=50, warn=False)
    assert abs(out["value"].iloc[0] - truth) < 0.02
    q = ContinuousRewardModel(LogisticRegression(), n_folds=3).fit(log).predict(log.action)
    assert 0.0 < q.min() and q.max() < 1.0 and np.unique(q).size > 100  # probabilities, not labels


def test_continuous_classifier_one_class_fold_and_continuous_rewards():
    from workbench.data import ContinuousBanditLog
    from workbench.ope import ContinuousRewardModel

    log, _ = _purchase_log(n=300, seed=1)
    one = np.zeros(300)
    one[7] = 1.0  # one purchase: the folds without it train on zeros only (LogisticRegression refused to fit)
    rare = ContinuousBanditLog(action=log.action, reward=one, density=log.density, a_min=1, a_max=10,
                               context=log.context)
    m = ContinuousRewardModel(LogisticRegression(), n_folds=3).fit(rare)
    fold7 = m.fold_[7]
    q = m.predict(rare.action)
    assert (q[m.fold_ == fold7] == 0.0).all()  # the fold holding the purchase: predicted by an all-zero model
    revenue = ContinuousBanditLog(action=log.action, reward=log.action * log.reward + 0.5, density=log.density,
                                  a_min=1, a_max=10, context=log.context)
    with pytest.raises(ValidationError, match=r"^reward_model: is a classifier \(LogisticRegression\).*whole numbers"):
        ContinuousRewardModel(LogisticRegression()).fit(revenue)


def test_reward_models_of_the_other_action_kind_are_refused_by_name():
    # discrete x continuous reward models crossed: an AttributeError about __sklearn_tags__ from inside
    # scikit-learn, a TypeError about RewardModelScorer.__call__, and a discrete log fitted as if its action
    # indices were prices
    from sklearn.linear_model import Ridge

    from workbench.data import simulate_pricing
    from workbench.ope import ContinuousRewardModel, UniformPolicy, evaluate_continuous_policy, evaluate_policy

    log, _ = simulate_bandit(200, n_actions=3, random_state=0)
    clog, truth = simulate_pricing(200, random_state=0)
    with pytest.raises(ValidationError, match=r"^reward_model: must be a scikit-learn estimator .*got "
                                              r"ContinuousRewardModel\. Pass the scikit-learn model itself, e\.g\. Ridge"):
        evaluate_policy(log, UniformPolicy(), estimators=["dr"], reward_model=ContinuousRewardModel(Ridge()),
                        n_bootstrap=20)
    with pytest.raises(ValidationError, match=r"^reward_model: is a RewardModelScorer, a reward model of discrete"):
        evaluate_continuous_policy(clog, truth.optimal_action(), bandwidth=0.5, estimators=["dr"],
                                   reward_model=fit_reward_scorer(log, LogisticRegression()), n_bootstrap=20)
    with pytest.raises(ValidationError, match=r"^log: must be a workbench.data.ContinuousBanditLog, got BanditLog"):
        ContinuousRewardModel(Ridge()).fit(log)
