"""Paths that must agree in off-policy evaluation: estimator objects vs evaluate_policy, in memory vs
streamed, benchmark_estimators vs evaluate_policy. Each test is a regression test of one inconsistency."""
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

import workbench as wb
from workbench.data import BanditLog, simulate_bandit
from workbench.ope import (DirectMethod, DoublyRobust, EpsilonGreedyPolicy, InverseProbabilityWeighting,
                           SelfNormalizedDR, benchmark_estimators, cross_fit_predict, evaluate_policy)
from workbench.scale import evaluate_tabular

N, K = 200, 3


@pytest.fixture(scope="module")
def log():
    return simulate_bandit(N, n_actions=K, random_state=2)[0]


@pytest.fixture(scope="module")
def target(log):
    return EpsilonGreedyPolicy(lambda X: X[:, :K], 0.2).action_dist(log)


def _frame(log, target, q=None):
    df = pd.DataFrame({"action": log.action, "reward": log.reward, "propensity": log.propensity})
    for a in range(K):
        df[f"pi_{a}"] = target[:, a]
        if q is not None:
            df[f"q_{a}"] = q[:, a]
    return df


PI = [f"pi_{a}" for a in range(K)]
Q = [f"q_{a}" for a in range(K)]


# -- one seed, one set of cross-fitting folds ------------------------------------------------------
def test_seed_sequence_gives_estimator_objects_the_folds_of_evaluate_policy(log, target):
    # estimate_interval / estimate_policy_value drew the folds from default_rng(ss), evaluate_policy
    # (and slope_select, compare_policies) used seed_key(ss) % 2**32: DR values differed by ~0.01
    ss = np.random.SeedSequence(3)
    for est in (DoublyRobust(), SelfNormalizedDR(), DirectMethod()):
        ref = evaluate_policy(log, target, [est], reward_model=Ridge(), n_bootstrap=30, random_state=ss,
                              warn=False).iloc[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wb.ope.OPEDiagnosticWarning)
            got = est.estimate_interval(log, target, reward_model=Ridge(), n_bootstrap=30, random_state=ss)
        assert got.value == pytest.approx(ref.value, rel=1e-12)
        assert [got.ci_low, got.ci_high] == pytest.approx([ref.ci_low, ref.ci_high], rel=1e-12)
        assert est.estimate_policy_value(log, target, reward_model=Ridge(), random_state=ss) == \
            pytest.approx(ref.value, rel=1e-12)


def test_seed_of_2_to_the_32_or_more_works_on_every_path(log, target):
    # evaluate_policy reduced the fold seed modulo 2**32; estimate_interval, estimate_policy_value and
    # cross_fit_predict passed it to scikit-learn, which raised a bare ValueError
    big = 2**32 + 5
    ref = evaluate_policy(log, target, ["dr"], reward_model=Ridge(), n_bootstrap=30, random_state=big,
                          warn=False).iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wb.ope.OPEDiagnosticWarning)
        got = DoublyRobust().estimate_interval(log, target, reward_model=Ridge(), n_bootstrap=30, random_state=big)
    assert (got.value, got.ci_low, got.ci_high) == pytest.approx((ref.value, ref.ci_low, ref.ci_high), rel=1e-12)
    assert DoublyRobust().estimate_policy_value(log, target, reward_model=Ridge(), random_state=big) == \
        pytest.approx(ref.value, rel=1e-12)
    np.testing.assert_array_equal(cross_fit_predict(log, Ridge(), n_folds=3, random_state=big),
                                  cross_fit_predict(log, Ridge(), n_folds=3, random_state=5))


# -- in memory vs streamed -------------------------------------------------------------------------
def test_streamed_single_row_bernstein_has_nan_se_as_in_memory():
    one = BanditLog(action=[0], reward=[1.0], propensity=[0.5], n_actions=2, behavior_dist=[[0.5, 0.5]])
    df = pd.DataFrame({"action": [0], "reward": [1.0], "propensity": [0.5], "pi_0": [0.7], "pi_1": [0.3],
                       "b_0": [0.5], "b_1": [0.5]})
    mem = evaluate_policy(one, np.array([[0.7, 0.3]]), ["ips"], interval="bernstein", n_bootstrap=20,
                          warn=False).iloc[0]
    tab = evaluate_policy(df, ["pi_0", "pi_1"], ["ips"], behavior=["b_0", "b_1"], interval="bernstein",
                          n_bootstrap=20, warn=False).iloc[0]
    assert np.isnan(mem.se) and np.isnan(tab.se)  # the streamed se was 0.0
    assert (tab.value, tab.ci_low, tab.ci_high) == (mem.value, mem.ci_low, mem.ci_high)


@pytest.mark.parametrize("b0, p0", [(1e-6, 2e-6),         # off by a factor of 2 at a small probability
                                    (0.0, 5e-6),          # an action the logger never takes
                                    (0.9, 0.9 + 1.05e-5)])  # just outside the relative tolerance
def test_streamed_propensity_check_is_the_banditlog_rule(b0, p0):
    # the streamed check used an absolute tolerance of 1e-5 and accepted these logs
    n = 4
    bd = np.tile([b0, 1 - b0], (n, 1))
    a = np.array([0, 1, 1, 1])
    p = bd[np.arange(n), a].copy()
    p[0] = p0
    with pytest.raises(wb.ValidationError, match="propensity"):
        BanditLog(action=a, reward=np.ones(n), propensity=p, behavior_dist=bd)
    df = pd.DataFrame({"action": a, "reward": 1.0, "propensity": p, "pi_0": 0.5, "pi_1": 0.5,
                       "b_0": bd[:, 0], "b_1": bd[:, 1]})
    with pytest.raises(wb.ValidationError, match="propensity"):
        evaluate_policy(df, ["pi_0", "pi_1"], ["ips"], behavior=["b_0", "b_1"], n_bootstrap=10)


@pytest.mark.parametrize("bad", [(1, 0), "ab", (0, np.inf)])
def test_malformed_reward_range_is_refused_in_memory_as_streamed(log, target, bad):
    # in memory it was ignored unless interval="bernstein"; the streamed path refused it
    with pytest.raises(wb.ValidationError, match="reward_range"):
        evaluate_policy(_frame(log, target), PI, ["ips"], reward_range=bad, n_bootstrap=10)
    with pytest.raises(wb.ValidationError, match="reward_range"):
        evaluate_policy(log, target, ["ips"], reward_range=bad, n_bootstrap=10)
    with pytest.raises(wb.ValidationError, match="reward_range"):
        InverseProbabilityWeighting().estimate_interval(log, target, reward_range=bad, n_bootstrap=10)


def test_evaluate_tabular_default_folds_are_those_of_evaluate_policy(log, target):
    # evaluate_policy(frame) passes n_folds=5 (its default) while evaluate_tabular defaulted to 2:
    # the two entry points to the same streamed evaluation gave different DM / DR values
    df = _frame(log, target)
    for j in range(log.context.shape[1]):
        df[f"x{j}"] = log.context[:, j]
    ctx = [f"x{j}" for j in range(log.context.shape[1])]
    kw = dict(context=ctx, n_bootstrap=20, random_state=1, warn=False)
    a = evaluate_policy(df, PI, ["dm", "dr"], **kw)
    b = evaluate_tabular(df, PI, ["dm", "dr"], **kw)
    np.testing.assert_allclose(b["value"], a["value"], rtol=1e-12)


def test_streamed_bca_with_constant_terms_matches_memory():
    # every weight 0 (ips terms all 0) and constant predictions (dm terms constant): the streamed BCa
    # divided the Python float 0 by 0 (ZeroDivisionError); in memory the acceleration is 0
    rng = np.random.default_rng(0)
    n = 50
    a = rng.integers(1, 3, n)
    r = rng.random(n)
    log = BanditLog(action=a, reward=r, propensity=np.full(n, 1 / 3), n_actions=3)
    pi = np.tile([1.0, 0.0, 0.0], (n, 1))
    q = np.full((n, 3), 0.25)
    df = pd.DataFrame({"action": a, "reward": r, "propensity": 1 / 3, "pi_0": 1.0, "pi_1": 0.0, "pi_2": 0.0,
                       "q_0": 0.25, "q_1": 0.25, "q_2": 0.25})
    kw = dict(interval="bca", n_bootstrap=30, random_state=2, warn=False)
    mem = evaluate_policy(log, pi, ["ips", "dm", "dr"], reward_model=q, **kw)
    tab = evaluate_policy(df, PI, ["ips", "dm", "dr"], reward_model=Q, **kw)
    cols = ["value", "ci_low", "ci_high", "se"]
    np.testing.assert_allclose(tab[cols].to_numpy(float), mem[cols].to_numpy(float), rtol=1e-9, atol=1e-15)


# -- benchmark_estimators reads estimators as evaluate_policy does ---------------------------------
def test_benchmark_estimators_takes_one_name_or_object_like_evaluate_policy():
    sim = lambda s: simulate_bandit(100, n_actions=K, random_state=s)  # noqa: E731
    pol = wb.ope.UniformPolicy()
    one = benchmark_estimators(sim, pol, "ips", n_replicates=2, n_bootstrap=20)  # was list("ips"): 'i', 'p', 's'
    lst = benchmark_estimators(sim, pol, ["ips"], n_replicates=2, n_bootstrap=20)
    pd.testing.assert_frame_equal(one.replicates, lst.replicates)
    obj = benchmark_estimators(sim, pol, InverseProbabilityWeighting(clip=2), n_replicates=2, n_bootstrap=20)
    assert obj.summary["estimator"].tolist() == ["ips(clip=2)"]
    # ... and replicate r is evaluate_policy on simulate(child r) with random_state=child r (docstring)
    child = np.random.SeedSequence(0).spawn(2)[1]
    direct = evaluate_policy(sim(child)[0], pol, ["ips"], n_bootstrap=20, random_state=child, warn=False)
    rep = lst.replicates[lst.replicates["replicate"] == 1]
    np.testing.assert_allclose(rep[["value", "ci_low", "ci_high"]].to_numpy(float),
                               direct[["value", "ci_low", "ci_high"]].to_numpy(float), rtol=1e-12)


def test_unknown_keyword_is_a_validation_error_for_tabular_logs_too(log, target):
    # a BanditLog refused it with a ValidationError, a frame with a bare TypeError of evaluate_tabular
    with pytest.raises(wb.ValidationError, match="position"):
        evaluate_policy(log, target, ["ips"], position="slot")
    with pytest.raises(wb.ValidationError, match="position"):
        evaluate_policy(_frame(log, target), PI, ["ips"], position="slot")


def test_a_boolean_one_hot_policy_is_read_as_the_truths_read_it():
    from workbench.data import simulate_routing

    log, truth = simulate_routing(300, random_state=0)
    from workbench._validation import ValidationError

    bandit = log.bandit_log(0.1)
    mask = np.eye(bandit.n_actions, dtype=bool)[truth.best_router(0.1)]
    with warnings.catch_warnings():  # the best router is off the logger's support on some rows: diagnostics say so
        warnings.simplefilter("ignore", wb.ope.OPEDiagnosticWarning)
        as_mask = evaluate_policy(bandit, mask, estimators=["ips"], n_bootstrap=10)  # was "must be numeric probabilities"
        as_float = evaluate_policy(bandit, mask.astype(float), estimators=["ips"], n_bootstrap=10)
    assert as_mask["value"].iloc[0] == as_float["value"].iloc[0]
    two = mask.copy()
    two[0] = True  # every router at once: not a distribution
    with pytest.raises(ValidationError, match="policy: probabilities must sum to 1.*first at row 0"):
        evaluate_policy(bandit, two, estimators=["ips"], n_bootstrap=10)


def test_streamed_reward_model_drops_interactions_as_in_memory():
    from sklearn.linear_model import Ridge

    from workbench.ope.reward_models import MAX_AUTO_INTERACTIONS
    from workbench.scale.reward import _cross_fit
    from workbench.scale.sources import as_source

    rng = np.random.default_rng(0)
    n, d, k = 400, 30, 10  # 300 context x action interactions > MAX_AUTO_INTERACTIONS
    assert d * k > MAX_AUTO_INTERACTIONS
    frame = pd.DataFrame(rng.normal(size=(n, d)), columns=[f"x{i}" for i in range(d)])
    frame["a"] = rng.integers(0, k, n)
    frame["r"] = rng.normal(size=n)
    ctx = [f"x{i}" for i in range(d)]
    model, _ = _cross_fit(Ridge(), ctx, "a", "r", k, as_source(frame), None, 0, 10_000, 2)
    assert model.models[0].coef_.shape == (d + k,)  # was d + k + d k: the in-memory design drops them here
    small, _ = _cross_fit(Ridge(), ctx[:3], "a", "r", k, as_source(frame), None, 0, 10_000, 2)
    assert small.models[0].coef_.shape == (3 + k + 3 * k,)  # 30 interactions: kept, as in memory
    q = model.predict(frame.iloc[:5], k, ids=np.arange(5))
    assert q.shape == (5, k)
