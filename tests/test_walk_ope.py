"""Fresh-eyes walk through workbench.ope: regressions for defects a user on new data would hit."""
import warnings

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench import ValidationError
from workbench.ope import OPEDiagnosticWarning, UniformPolicy, cross_fit_predict, evaluate_policy


def _one_click_log(n=400, seed=0):
    rng = np.random.default_rng(seed)
    r = np.zeros(n)
    r[rng.integers(n)] = 1.0  # a single click: whichever fold holds it, the other folds train on zeros only
    return wb.data.BanditLog(action=rng.integers(0, 3, n), reward=r, propensity=np.full(n, 1 / 3),
                             context=rng.normal(size=(n, 2)))


def test_default_reward_model_on_a_one_click_log():
    # The default model (logistic for 0/1 rewards) raised "could not be fitted on fold k" with a hint to use
    # fewer folds, which cannot help: the fold that holds the only click leaves zeros to train on.
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    log = _one_click_log()
    click = int(np.flatnonzero(log.reward)[0])
    q = cross_fit_predict(log, LogisticRegression(), n_folds=5, random_state=3)
    assert q[click].tolist() == [0.0, 0.0, 0.0]  # trained on zeros only: the classifier's expected reward is 0
    assert np.all((q > 0) & (q < 1) | (q == 0))
    # the same as a classifier that accepts one class gives (a tree predicts probability 1 for it)
    tree = cross_fit_predict(log, DecisionTreeClassifier(), n_folds=5, random_state=3)
    assert tree[click].tolist() == [0.0, 0.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OPEDiagnosticWarning)
        out = evaluate_policy(log, UniformPolicy(), estimators=["dm", "dr"], n_bootstrap=50)
    assert np.isfinite(out["value"]).all() and (out["value"] > 0).all()


def test_cdf_quantile_replicates_without_weighted_rows_are_nan():
    # A target that weighs 2 of 300 rows: ~14% of Poisson replicates hold neither. Their CDF is 0 / 0; the mean
    # was NaN there (and skipped), but every quantile read the largest logged reward (3.1, a row the target
    # never plays), so the median's 95% interval was [-0.79, 3.10] instead of within the two weighted rewards.
    from workbench.ope import off_policy_cdf

    rng = np.random.default_rng(1)
    n, k = 300, 150
    a, r = rng.integers(0, k, n), rng.normal(size=n)
    log = wb.data.BanditLog(action=a, reward=r, propensity=np.full(n, 1 / k), n_actions=k)
    act = int(np.flatnonzero(np.bincount(a, minlength=k) == 2)[0])
    pe = np.zeros((n, k))
    pe[:, act] = 1.0
    cdf = off_policy_cdf(log, pe, n_bootstrap=400)
    lo, hi = r[a == act].min(), r[a == act].max()
    for est in (cdf.quantile(0.5), cdf.quantile(0.9), cdf.mean(), cdf.cvar(0.5, tail="upper")):
        assert lo <= est.ci_low <= est.value <= est.ci_high <= hi, est
    q = cdf._replicate_functionals([("quantile", 0.5), ("mean", None)])
    np.testing.assert_array_equal(np.isnan(q[:, 0]), np.isnan(q[:, 1]))  # undefined in the same replicates
    assert 0.05 < np.isnan(q[:, 0]).mean() < 0.25
    summary = cdf.summary(quantiles=(0.5,), cvar_levels=(0.5,))
    rewards = summary[summary["statistic"] != "std"]  # the rest are rewards of the two weighted rows
    assert (rewards["ci_low"] >= lo).all() and (rewards["ci_high"] <= hi).all()


@pytest.mark.parametrize("bad", [lambda X: X, "ridge", 0.3])
def test_reward_model_neither_model_nor_array_is_named(bad):
    # A function, a model's name or a number was read as an array: "must be numeric, got an object array (mixed
    # or missing values?)" or "must be 2-D or 3-D, got shape ()", which do not say what reward_model accepts.
    from workbench import ValidationError
    from workbench.ope import compare_policies

    log, _ = wb.data.simulate_bandit(200, n_actions=3, random_state=0)
    with pytest.raises(ValidationError, match=r"^reward_model: must be a scikit-learn estimator \(it is cross-fitted\) "
                                              r"or an array of predictions of shape \(200, 3\[, n_positions\]\), got "):
        evaluate_policy(log, UniformPolicy(), estimators=["dr"], reward_model=bad, n_bootstrap=20)
    with pytest.raises(ValidationError, match=r"^reward_model: must be a scikit-learn estimator"):
        compare_policies(log, {"a": UniformPolicy(), "b": UniformPolicy()}, estimator="dm", reward_model=bad)


def test_cdf_weight_diagnostics_at_any_scale():
    # (sum w)^2 / sum w^2 was NaN (numpy overflow / invalid-value warnings) for weights scaled by 1e200 or 1e-200,
    # e.g. the kernel weights of a bandwidth of 1e-200; evaluate_policy's diagnostics (scaled sums) are used now.
    from workbench.ope import importance_weights, off_policy_cdf, off_policy_cdf_from_weights

    log, _ = wb.data.simulate_bandit(500, n_actions=3, reward_type="continuous", random_state=0)
    pe = np.tile([0.7, 0.2, 0.1], (len(log), 1))
    ess = evaluate_policy(log, pe, estimators=["ips"], n_bootstrap=20, warn=False)["ess"].iloc[0]
    assert off_policy_cdf(log, pe, n_bootstrap=20).diagnostics["ess"] == pytest.approx(ess, rel=1e-12)
    w = importance_weights(log, pe)
    for scale in (1e200, 1e-200):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            d = off_policy_cdf_from_weights(log.reward, w * scale, n_bootstrap=20).diagnostics
        assert d["ess"] == pytest.approx(ess, rel=1e-12)
        assert d["mean_weight"] == pytest.approx(w.mean() * scale, rel=1e-12)


def test_estimator_entry_points_take_warn_and_name_unknown_keywords():
    # estimate_interval(warn=False), as evaluate_policy takes it, was "TypeError: prepare_inputs() got an unexpected
    # keyword argument 'warn'" (so its diagnostics warning could not be silenced), and a misspelt keyword named
    # prepare_inputs, a function the caller never called.
    from workbench import ValidationError
    from workbench.ope import DoublyRobust, InverseProbabilityWeighting

    log, _ = wb.data.simulate_bandit(500, n_actions=3, random_state=0)
    bad = wb.data.BanditLog(action=log.action, reward=log.reward, propensity=log.propensity / 3, n_actions=3)
    ips = InverseProbabilityWeighting()
    with pytest.warns(OPEDiagnosticWarning, match="mean importance weight"):
        loud = ips.estimate_interval(bad, UniformPolicy(), n_bootstrap=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OPEDiagnosticWarning)
        quiet = ips.estimate_interval(bad, UniformPolicy(), n_bootstrap=50, warn=False)
    assert (quiet.value, quiet.ci_low, quiet.ci_high) == (loud.value, loud.ci_low, loud.ci_high)
    with pytest.raises(ValidationError, match=r"^nfolds: is not a keyword of estimate_policy_value / estimate_interval"):
        DoublyRobust().estimate_policy_value(log, UniformPolicy(), nfolds=3)
    with pytest.raises(ValidationError, match=r"^n_bootstrap: is not a keyword"):
        ips.estimate_policy_value(log, UniformPolicy(), n_bootstrap=20)
    # the keywords that are meant still work (and give evaluate_policy's value)
    dr = DoublyRobust().estimate_policy_value(log, UniformPolicy(), n_folds=3, random_state=4)
    ref = evaluate_policy(log, UniformPolicy(), estimators=["dr"], n_folds=3, random_state=4, n_bootstrap=20)
    assert dr == ref["value"].iloc[0]


def test_zero_support_clause_counts_rows():
    # "{:.2g}%" printed a target off the logger's support on every row as "on 1e+02% of rows"
    n = 400
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, n)
    log = wb.data.BanditLog(action=a, reward=(rng.random(n) < 0.3).astype(float), propensity=np.full(n, 0.5),
                            n_actions=3, behavior_dist=np.tile([0.5, 0.5, 0.0], (n, 1)))
    half = np.tile([0.5, 0.0, 0.5], (n, 1))
    for rows, text in ((n, "on 400 of 400 rows (100%) the target policy puts probability on actions the logging "
                           "policy never takes"), (7, "on 7 of 400 rows (1.75%) the target policy")):
        pe = np.where(np.arange(n)[:, None] < rows, half, np.tile([0.5, 0.5, 0.0], (n, 1)))
        with pytest.warns(OPEDiagnosticWarning, match=text.replace("(", r"\(").replace(")", r"\)")):
            out = evaluate_policy(log, pe, estimators=["ips"], n_bootstrap=20)
        assert out["zero_support_share"].iloc[0] == rows / n


def test_compare_policies_ties_share_prob_best():
    # Two policies with the same estimate in every replicate (here one policy under two names; also two rules
    # that agree on every row they weigh): argmax credited every replicate to the first listed, 1.0 vs 0.0.
    from workbench.ope import compare_policies

    log, _ = wb.data.simulate_bandit(400, n_actions=3, random_state=0)
    pe = np.tile([0.6, 0.3, 0.1], (len(log), 1))
    cmp = compare_policies(log, {"a": pe, "b": pe.copy(), "u": UniformPolicy()}, estimator="ips", n_bootstrap=200)
    p = cmp.summary.set_index("policy")["prob_best"]
    assert p["a"] == p["b"]
    assert p.sum() == pytest.approx(1.0)
    # a deterministic target differing from another only off the logged actions: ips is the same in every replicate
    a = np.asarray(log.action)
    det1 = np.eye(3)[np.where(a == 2, 2, (a + 1) % 3)]  # off the logged action except where 2 was logged
    det2 = np.eye(3)[np.where(a == 2, 2, (a + 2) % 3)]  # another action there, but also never the logged one
    p2 = compare_policies(log, {"d1": det1, "d2": det2}, estimator="ips", n_bootstrap=200).summary
    assert p2["prob_best"].tolist() == [0.5, 0.5]


def test_greedy_policies_refuse_a_row_that_rules_out_every_action():
    # A scorer that masks unavailable actions with -inf and leaves a row with none: SoftmaxPolicy refused it, but
    # GreedyPolicy and EpsilonGreedyPolicy played action 0 there (ties to the lowest index), an action ruled out.
    from workbench import ValidationError
    from workbench.ope import EpsilonGreedyPolicy, GreedyPolicy, SoftmaxPolicy

    X = np.zeros((5, 2))

    def masked(X):
        s = np.tile([0.2, 0.5, 0.1], (len(X), 1))
        s[3] = -np.inf  # row 3: no action available
        return s

    for policy in (GreedyPolicy(masked), EpsilonGreedyPolicy(masked, 0.1), SoftmaxPolicy(masked)):
        with pytest.raises(ValidationError, match=r"^scorer: scores every action -inf on a row \(rules out every "
                                                  r"action\).*1 of 5 rows breaks the rule, first at row 3"):
            policy.action_dist(X)
    # -inf on some actions only is a mask, as before
    ok = lambda X: np.tile([-np.inf, 0.5, 0.1], (len(X), 1))  # noqa: E731
    np.testing.assert_array_equal(GreedyPolicy(ok).action_dist(X)[0], [0, 1, 0])
    np.testing.assert_allclose(EpsilonGreedyPolicy(ok, 0.3).action_dist(X)[0], [0.1, 0.8, 0.1])


@pytest.mark.parametrize("spec", [["ips", "ips"], ["ips", " IPS "], ["dr", "ips", "dr"]])
def test_repeated_estimators_are_refused(spec):
    # evaluate_policy returned two identical rows for estimators=['ips', 'ips'] (bootstrap_intervals and the
    # validity helpers refuse repeated names); streamed the same
    from workbench.scale import evaluate_tabular

    log = _one_click_log()
    with pytest.raises(ValidationError, match=r"estimators: names must be unique.*repeated"):
        evaluate_policy(log, UniformPolicy(), estimators=spec, n_bootstrap=20)
    frame = pd.DataFrame({"action": log.action, "reward": log.reward, "propensity": log.propensity,
                          **{f"pi_{a}": np.full(len(log), 1 / 3) for a in range(3)}})
    with pytest.raises(ValidationError, match=r"estimators: names must be unique"):
        evaluate_tabular(frame, [f"pi_{a}" for a in range(3)], estimators=spec, n_bootstrap=20)
