"""Follow-ups of the pairs audit of ``workbench.ope``.

1. A Generator seed coupled the estimators: the cross-fitting folds and the bootstrap drew from the same
   Generator in turn, the folds only when some estimator fitted a reward model. So adding "dr" to
   ``["ips"]`` moved ips' interval (ci_low 0.1918 -> 0.1908), although all estimators are meant to share
   one set of resamples and the same seed to give the same result. Now a Generator gives one key, drawn
   once at the start of the call, and the call runs as with that int seed (int seeds are unchanged).
2. The streamed cross-fitting (``evaluate_tabular`` with a classifier) lacked the in-memory refusal of
   rewards that are not whole numbers: scikit-learn's "Unknown label type: continuous" came from fold 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from workbench import ValidationError
from workbench.data import simulate_bandit, simulate_pricing
from workbench.ope import (DoublyRobust, InverseProbabilityWeighting, UniformPolicy, compare_policies,
                           cross_fit_predict, evaluate_policy, slope_select, threshold_family)
from workbench.ope.continuous import bandwidth_sweep, evaluate_continuous_policy
from workbench.scale import evaluate_tabular

COLS = ["value", "ci_low", "ci_high", "se"]


def _same(a, b):
    # equal up to the last bits: one more estimator's column changes numpy's pairwise summation by an ulp; the
    # coupling moved the interval by ~1e-3
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def _g(seed=11):
    return np.random.default_rng(seed)


def _key(seed=11):
    # the key a Generator gives: its next draw, as workbench._random.seed_key draws it
    return int(np.random.default_rng(seed).integers(0, 2**63, dtype=np.int64))


@pytest.fixture(scope="module")
def log():
    return simulate_bandit(1500, n_actions=3, random_state=2)[0]


@pytest.fixture(scope="module")
def pricing():
    log, truth = simulate_pricing(1200, random_state=3)
    return log, truth.optimal_action()


def _row(frame, name):
    return frame.set_index("estimator").loc[name, COLS].to_numpy(dtype=float)


@pytest.mark.parametrize("interval", ["percentile", "bca"])
@pytest.mark.parametrize("resampling", ["poisson", "multinomial"])
def test_generator_seed_ips_interval_does_not_depend_on_the_other_estimators(log, interval, resampling):
    kw = dict(n_bootstrap=200, interval=interval, resampling=resampling)
    alone = evaluate_policy(log, UniformPolicy(), ["ips"], random_state=_g(), **kw)
    with_dr = evaluate_policy(log, UniformPolicy(), ["ips", "dr"], random_state=_g(), **kw)
    _same(_row(alone, "ips"), _row(with_dr, "ips"))


def test_generator_seed_runs_as_the_int_key_it_draws(log):
    kw = dict(n_bootstrap=200, reward_model=Ridge())
    by_gen = evaluate_policy(log, UniformPolicy(), ["ips", "dr", "dm"], random_state=_g(), **kw)
    by_key = evaluate_policy(log, UniformPolicy(), ["ips", "dr", "dm"], random_state=_key(), **kw)
    pd.testing.assert_frame_equal(by_gen, by_key)
    # the folds too: cross_fit_predict with a copy of the Generator has evaluate_policy's folds
    q_gen = cross_fit_predict(log, Ridge(), random_state=_g())
    q_key = cross_fit_predict(log, Ridge(), random_state=_key())
    np.testing.assert_array_equal(q_gen, q_key)


def test_generator_advances_by_one_draw_whatever_the_estimators(log):
    g1, g2 = _g(), _g()
    evaluate_policy(log, UniformPolicy(), ["ips"], n_bootstrap=50, random_state=g1)
    evaluate_policy(log, UniformPolicy(), ["ips", "dr", "switch-dr"], n_bootstrap=50, random_state=g2)
    assert g1.random() == g2.random()


def test_int_seed_ips_interval_is_unchanged_by_dr(log):
    # int seeds were already independent; the fix keeps it so
    alone = evaluate_policy(log, UniformPolicy(), ["ips"], n_bootstrap=200, random_state=5)
    with_dr = evaluate_policy(log, UniformPolicy(), ["ips", "dr"], n_bootstrap=200, random_state=5)
    _same(_row(alone, "ips"), _row(with_dr, "ips"))


def test_estimate_interval_with_a_generator_matches_evaluate_policy(log):
    ref = evaluate_policy(log, UniformPolicy(), ["ips", "dr"], n_bootstrap=200, random_state=_g())
    for est, name in ((InverseProbabilityWeighting(), "ips"), (DoublyRobust(), "dr")):
        e = est.estimate_interval(log, UniformPolicy(), n_bootstrap=200, random_state=_g())
        _same([e.value, e.ci_low, e.ci_high, e.se], _row(ref, name))
    v = DoublyRobust().estimate_policy_value(log, UniformPolicy(), random_state=_g())
    _same(v, _row(ref, "dr")[0])


def test_compare_policies_and_slope_select_with_a_generator_match_evaluate_policy(log):
    pols = {"u": UniformPolicy(), "t": np.tile([0.6, 0.3, 0.1], (len(log), 1))}
    for est in ("ips", "dr"):
        cmp = compare_policies(log, pols, estimator=est, n_bootstrap=200, random_state=_g())
        for name, pol in pols.items():
            ref = evaluate_policy(log, pol, [est], n_bootstrap=200, random_state=_g())
            row = cmp.summary.set_index("policy").loc[name]
            assert row["value"] == pytest.approx(_row(ref, est)[0], abs=1e-14)
            assert row["se"] == pytest.approx(_row(ref, est)[3], abs=1e-14)
    fam = threshold_family("ips", [float("inf"), 10, 3])
    res = slope_select(log, pols["t"], fam, n_bootstrap=200, random_state=_g())
    ref = evaluate_policy(log, pols["t"], list(fam), n_bootstrap=200, random_state=_g())
    np.testing.assert_allclose(res.path["se"].to_numpy(), ref["se"].to_numpy(), rtol=0, atol=1e-14)


def test_continuous_generator_seed_ips_interval_does_not_depend_on_the_reward_model(pricing):
    log, target = pricing
    kw = dict(bandwidth=0.5, n_bootstrap=200)
    alone = evaluate_continuous_policy(log, target, estimators=["ips"], random_state=_g(), **kw)
    with_dr = evaluate_continuous_policy(log, target, estimators=["ips", "dr"], reward_model=Ridge(),
                                         random_state=_g(), **kw)
    _same(_row(alone, "ips"), _row(with_dr, "ips"))
    by_key = evaluate_continuous_policy(log, target, estimators=["ips", "dr"], reward_model=Ridge(),
                                        random_state=_key(), **kw)
    pd.testing.assert_frame_equal(with_dr, by_key)
    # the sweep with one bandwidth is still the single evaluation
    sweep = bandwidth_sweep(log, target, [0.5], estimators=["ips", "dr"], reward_model=Ridge(), n_bootstrap=200,
                            random_state=_g())
    np.testing.assert_array_equal(sweep.set_index("estimator").loc[["ips", "dr"], COLS].to_numpy(dtype=float),
                                  with_dr.set_index("estimator").loc[["ips", "dr"], COLS].to_numpy(dtype=float))


def test_streamed_generator_seed_ips_interval_does_not_depend_on_dr(log):
    # the streamed path derives its folds from the bootstrap key (one draw): already independent, kept so
    df = pd.DataFrame({"action": log.action, "reward": log.reward, "propensity": log.propensity,
                       "x0": log.context[:, 0], **{f"pi_{j}": np.full(len(log), 1 / 3) for j in range(3)}})
    pi = [f"pi_{j}" for j in range(3)]
    alone = evaluate_tabular(df, pi, ["ips"], n_bootstrap=200, random_state=_g())
    with_dr = evaluate_tabular(df, pi, ["ips", "dr"], context=["x0"], n_bootstrap=200, random_state=_g())
    _same(_row(alone, "ips"), _row(with_dr, "ips"))


# -- 2. streamed cross-fitting: a classifier with rewards that are not whole numbers ---------------------------
def _tabular(n=600, bad_rows=(), seed=0):
    rng = np.random.default_rng(seed)
    reward = (rng.random(n) < 0.4).astype(float)
    reward[list(bad_rows)] = 0.37
    return pd.DataFrame({"action": rng.integers(0, 3, n), "reward": reward, "propensity": np.full(n, 1 / 3),
                         "x0": rng.normal(size=n), "pi_0": 0.5, "pi_1": 0.3, "pi_2": 0.2})


@pytest.mark.parametrize("as_chunks", [False, True])
def test_streamed_classifier_with_rewards_that_are_not_whole_numbers_is_refused_with_the_global_row(as_chunks):
    df = _tabular(bad_rows=(317, 318, 450))
    data = [df.iloc[i:i + 100] for i in range(0, len(df), 100)] if as_chunks else df
    with pytest.raises(ValidationError, match=r"^reward_model: is a classifier \(LogisticRegression\).*not whole "
                                              r"numbers.*first at row 317 \(value 0\.37\).*Use a regressor") as exc:
        evaluate_tabular(data, ["pi_0", "pi_1", "pi_2"], ["dr"], reward_model=LogisticRegression(), context=["x0"],
                         n_bootstrap=20, chunk_size=None if as_chunks else 100)
    assert (exc.value.field, exc.value.first) == ("reward_model", 317)
    # the in-memory refusal: same field and rule, same first row
    from workbench.data import BanditLog

    mem = BanditLog(context=df[["x0"]].to_numpy(), action=df["action"].to_numpy(), reward=df["reward"].to_numpy(),
                    propensity=df["propensity"].to_numpy(), n_actions=3)
    with pytest.raises(ValidationError) as mem_exc:
        evaluate_policy(mem, UniformPolicy(), ["dr"], reward_model=LogisticRegression(), n_bootstrap=20)
    assert (mem_exc.value.field, mem_exc.value.rule, mem_exc.value.first) == ("reward_model", exc.value.rule, 317)


def test_streamed_classifier_with_whole_number_rewards_still_fits():
    # 0/1 rewards and ratings are classes: accepted, and a regressor with continuous rewards too
    df = _tabular()
    pi = ["pi_0", "pi_1", "pi_2"]
    out = evaluate_tabular(df, pi, ["dr"], reward_model=LogisticRegression(), context=["x0"], n_bootstrap=20)
    assert np.isfinite(out["value"]).all()
    ratings = df.assign(reward=np.arange(len(df)) % 5 + 1.0)
    out = evaluate_tabular(ratings, pi, ["dr"], reward_model=LogisticRegression(max_iter=500), context=["x0"],
                           n_bootstrap=20)
    assert np.isfinite(out["value"]).all()
    cont = _tabular(bad_rows=(5,))
    out = evaluate_tabular(cont, pi, ["dr"], reward_model=Ridge(), context=["x0"], n_bootstrap=20)
    assert np.isfinite(out["value"]).all()
