"""SLOPE, policy comparison and estimator benchmarks."""
import numpy as np
import pytest

import workbench as wb
from workbench.ope import (InverseProbabilityWeighting, benchmark_estimators, compare_policies, evaluate_policy,
                           slope_select, threshold_family)


def _heavy_log(n, rng):
    """Context-free log whose target sits on a rarely logged action: heavy weights, exact truth."""
    k = 5
    pb = np.array([0.02, 0.08, 0.3, 0.3, 0.3])
    pe = np.array([0.6, 0.1, 0.1, 0.1, 0.1])
    q = np.array([0.5, 0.4, 0.2, 0.1, 0.3])
    a = rng.choice(k, size=n, p=pb)
    r = (rng.random(n) < q[a]).astype(float)
    log = wb.data.BanditLog(action=a, reward=r, propensity=pb[a], n_actions=k, behavior_dist=np.tile(pb, (n, 1)))
    return log, np.tile(pe, (n, 1)), float(pe @ q)


def test_threshold_family_is_ordered_from_unbiased_to_most_clipped():
    fam = threshold_family("ips", [2, np.inf, 10])
    assert [f.clip for f in fam] == [np.inf, 10, 2]
    fam = threshold_family("switch-dr", weights=np.array([0.5, 1, 3, 30.0]), n_thresholds=5)
    assert np.isinf(fam[0].lambda_) and len(fam) == 5
    assert all(a.lambda_ > b.lambda_ for a, b in zip(fam, fam[1:]))


def test_slope_rule_on_its_own_path():
    rng = np.random.default_rng(0)
    log, pe, _ = _heavy_log(2000, rng)
    fam = threshold_family("ips", [np.inf, 40, 20, 10, 5, 2, 1, 0.5])
    res = slope_select(log, pe, fam, n_bootstrap=300)
    p = res.path
    th, se = p["value"].to_numpy(), p["se"].to_numpy()
    # recompute Lepski's rule from the reported path
    chosen = 0
    for i in range(1, len(p)):
        if np.all(np.abs(th[i] - th[:i]) <= 2 * (se[i] + se[:i])):
            chosen = i
        else:
            break
    assert res.index == chosen and p["chosen"].sum() == 1 and p["chosen"].iloc[chosen]
    assert res.chosen == fam[chosen]
    # the members' values match single evaluations
    single = evaluate_policy(log, pe, estimators=[fam[3]], n_bootstrap=300, warn=False)
    assert np.isclose(single["value"].iloc[0], th[3], rtol=1e-12)
    assert np.isclose(single["se"].iloc[0], se[3], rtol=1e-12)


def test_slope_trades_bias_for_variance_by_monte_carlo():
    # 40 logs of 3000 rows: the SLOPE pick must beat the worst member clearly and stay within its
    # oracle factor of the best. (With few rows every band is wide and SLOPE may legitimately walk to
    # a biased member: its guarantee is relative to bias + width, not to the best RMSE.)
    rng = np.random.default_rng(1)
    fam = threshold_family("ips", [np.inf, 30, 15, 8, 4, 2, 1, 0.5])
    errs = {f.label: [] for f in fam}
    slope_err = []
    for i in range(40):
        log, pe, truth = _heavy_log(3000, rng)
        res = slope_select(log, pe, fam, n_bootstrap=200, random_state=i)
        slope_err.append(res.value - truth)
        for _, row in res.path.iterrows():
            errs[row["member"]].append(row["value"] - truth)
    rmse = {k: np.sqrt(np.mean(np.square(v))) for k, v in errs.items()}
    s = np.sqrt(np.mean(np.square(slope_err)))
    assert s < 0.5 * max(rmse.values())
    # Lepski's rule guarantees an error within a constant factor of the best bias + width trade-off;
    # here (a coarse family whose first clip already costs 3 s.e. of bias) it lands at about 2.5x.
    assert s < 3.0 * min(rmse.values())


def test_compare_policies_shares_resamples_and_picks_the_better_policy():
    log, truth = wb.data.simulate_bandit(4000, n_actions=4, dim_context=3, random_state=2)
    good = truth.expected_reward.argmax(1)  # the oracle-greedy policy is much better than uniform
    good_dist = np.full((len(log), 4), 0.05)
    good_dist[np.arange(len(log)), good] += 0.8
    cands = {"uniform": wb.ope.UniformPolicy(), "good": good_dist, "logger": log.behavior_dist}
    cmp = compare_policies(log, cands, estimator="snips", n_bootstrap=400, random_state=3)
    s = cmp.summary.set_index("policy")
    assert cmp.choice == "good" and cmp.best_estimate == "good"
    assert np.isclose(s["prob_best"].sum(), 1.0)
    for name, pol in cands.items():
        single = evaluate_policy(log, pol, estimators=["snips"], n_bootstrap=400, random_state=3, warn=False)
        assert np.isclose(single["value"].iloc[0], s.loc[name, "value"], rtol=1e-12)
        assert np.isclose(single["ci_low"].iloc[0], s.loc[name, "ci_low"], rtol=1e-12)
    pw = cmp.pairwise.set_index(["policy_a", "policy_b"])
    d = pw.loc[("uniform", "good")]
    assert np.isclose(d["difference"], s.loc["uniform", "value"] - s.loc["good", "value"])
    assert d["ci_high"] < 0 and d["prob_a_better"] < 0.01
    # paired differences are tighter than the two separate intervals suggest
    assert d["se"] < np.hypot(s.loc["uniform", "se"], s.loc["good", "se"])
    bon = compare_policies(log, cands, estimator="snips", n_bootstrap=400, random_state=3, adjust="bonferroni")
    assert (bon.summary.set_index("policy")["ci_low"] <= s["ci_low"] + 1e-15).all()


def test_compare_policies_with_a_reward_model_fits_it_once():
    from sklearn.linear_model import LogisticRegression

    log, _ = wb.data.simulate_bandit(1500, n_actions=3, random_state=4)
    cands = {"uniform": wb.ope.UniformPolicy(), "logger": log.behavior_dist}
    cmp = compare_policies(log, cands, estimator="dr", reward_model=LogisticRegression(max_iter=500),
                           n_bootstrap=200)
    single = evaluate_policy(log, log.behavior_dist, ["dr"], reward_model=LogisticRegression(max_iter=500),
                             n_bootstrap=200, warn=False)
    assert np.isclose(cmp.summary.set_index("policy").loc["logger", "value"], single["value"].iloc[0], rtol=1e-10)
    with pytest.raises(wb.ValidationError, match="at least two"):
        compare_policies(log, {"only": log.behavior_dist})


def test_benchmark_estimators_scores_against_the_truth():
    sim = lambda s: wb.data.simulate_bandit(800, n_actions=4, dim_context=2, random_state=s)  # noqa: E731
    target = lambda log: wb.ope.EpsilonGreedyPolicy(lambda X: X @ np.ones((2, 4)) * np.arange(4), 0.2  # noqa: E731
                                                    ).action_dist(log)
    wrong = lambda log: np.full((len(log), 4), 0.9)  # noqa: E731
    del wrong
    bench = benchmark_estimators(sim, target, ["ips", "snips", InverseProbabilityWeighting(clip=1.0)],
                                 n_replicates=30, n_bootstrap=200, random_state=0)
    s = bench.summary.set_index("estimator")
    assert set(s.index) == {"ips", "snips", "ips(clip=1)"}
    assert bench.replicates.shape[0] == 90
    assert abs(s.loc["ips", "bias"]) < 3 * s.loc["ips", "bias_se"]  # unbiased
    assert s.loc["ips(clip=1)", "bias"] < -3 * s.loc["ips(clip=1)", "bias_se"]  # clipping at 1 is biased down
    again = benchmark_estimators(sim, target, ["ips", "snips", InverseProbabilityWeighting(clip=1.0)],
                                 n_replicates=30, n_bootstrap=200, random_state=0)
    assert again.summary.equals(bench.summary)


def test_compare_policies_names_the_bad_policy():
    log, _ = wb.data.simulate_bandit(300, n_actions=3, random_state=0)
    bad = np.full((300, 3), 0.4)
    for est in ("ips", "dr"):
        with pytest.raises(wb.ValidationError, match=r"^policies\['bad'\]: policy: probabilities must sum to 1"):
            compare_policies(log, {"bad": bad, "uniform": wb.ope.UniformPolicy()}, estimator=est, n_bootstrap=20)
