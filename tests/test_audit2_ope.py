"""Audit 2 of workbench.ope: adversarial-but-legitimate inputs and scale (regression tests)."""
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor

from workbench._validation import ValidationError
from workbench.data import BanditLog, simulate_bandit, simulate_pricing
from workbench.ope import (ContinuousRewardModel, MarginalizedIPS, OPEDiagnosticWarning, SoftmaxPolicy,
                           bernstein_interval, cross_fit_predict, design_matrix, estimate_from_inputs, evaluate_policy,
                           importance_weights, off_policy_cdf_from_weights, policy_scores, prepare_inputs,
                           summarise_replicates, weight_diagnostics)


# -- bernstein_interval: the bound holds only for finite terms inside [low, high] ------------------
@pytest.mark.parametrize("terms, low, high, field", [
    ([5.0, 6.0, 7.0], 0.0, 1.0, "terms"),      # was (0, 1): an interval excluding the terms' own mean
    ([np.nan, 0.6, 0.3], 0.0, 1.0, "terms"),   # was (0, 1)
    ([0.5, 0.6], 1.0, 0.0, "low"),             # was an inverted interval (10.6, -9.5)
    ([0.5, 0.6, 0.3], np.nan, 1.0, "low"),     # was (nan, 1)
    ([0.5, 0.6, 0.3], "0", 1.0, "low"),        # was a TypeError
    (["a", "b"], 0.0, 1.0, "terms"),           # was a bare ValueError
])
def test_bernstein_interval_validates_terms_and_bounds(terms, low, high, field):
    with pytest.raises(ValidationError, match=f"^{field}:"):
        bernstein_interval(terms, low, high, 0.05)


def test_bernstein_interval_still_accepts_a_degenerate_bound_and_pandas():
    assert bernstein_interval(np.zeros(5), 0.0, 0.0, 0.05) == (0.0, 0.0)  # ips(clip=0): bounds (0, 0)
    s = pd.Series([0.2, 0.4, 0.9], index=[5, 3, 1])
    assert bernstein_interval(s, 0.0, 1.0, 0.05) == bernstein_interval(s.to_numpy(), 0.0, 1.0, 0.05)


# -- weight diagnostics ----------------------------------------------------------------------------
@pytest.mark.parametrize("w", [[1.0, np.nan], [1.0, -1.0], ["a"]])
def test_weight_diagnostics_refuses_nan_negative_and_text(w):
    with pytest.raises(ValidationError, match="^weights:"):
        weight_diagnostics(np.asarray(w))


def test_weight_diagnostics_of_huge_and_tiny_weights():
    assert weight_diagnostics(np.array([1e200, 1e200]))["ess"] == pytest.approx(2.0)  # was NaN
    assert weight_diagnostics(np.array([1e-200, 3e-200]))["ess"] == pytest.approx(1.6, rel=1e-12, abs=0)  # was 0


def test_tiny_propensities_give_estimates_and_a_warning_not_an_overflow_error():
    n = 60
    log = BanditLog(action=np.arange(n) % 3, reward=np.random.default_rng(1).random(n), propensity=np.full(n, 1e-160),
                    n_actions=3)
    with pytest.warns(OPEDiagnosticWarning, match="mean importance weight"):  # was an OverflowError
        out = evaluate_policy(log, np.full((n, 3), 1 / 3), ["ips", "snips"], n_bootstrap=20)
    w = (1 / 3) / 1e-160
    assert out["value"].iloc[0] == pytest.approx(np.mean(w * log.reward))
    assert out["value"].iloc[1] == pytest.approx(log.reward.mean())
    assert out["ess"].iloc[0] == pytest.approx(n)


# -- policies --------------------------------------------------------------------------------------
def test_softmax_of_infinite_or_overflowing_scores_is_its_limit_not_nan():
    X = np.zeros((2, 1))
    pos_inf = SoftmaxPolicy(lambda X: np.tile([np.inf, np.inf, 0.0], (len(X), 1))).action_dist(X)
    np.testing.assert_array_equal(pos_inf, [[0.5, 0.5, 0.0]] * 2)  # was NaN
    huge = SoftmaxPolicy(lambda X: np.tile([1e308, 1e308, 0.0], (len(X), 1)), temperature=0.1).action_dist(X)
    np.testing.assert_array_equal(huge, [[0.5, 0.5, 0.0]] * 2)  # was NaN
    cold = SoftmaxPolicy(lambda X: np.tile([1.0, 2.0, 0.0], (len(X), 1)), temperature=1e-320).action_dist(X)
    np.testing.assert_array_equal(cold, [[0.0, 1.0, 0.0]] * 2)  # was NaN; the limit is greedy
    mixed = SoftmaxPolicy(lambda X: np.array([[0.0, 1.0, 2.0], [1e308, 1e308, 0.0]]), temperature=0.1).action_dist(X)
    np.testing.assert_allclose(mixed[0], np.exp([0, 10, 20]) / np.exp([0, 10, 20]).sum())  # a normal row untouched
    np.testing.assert_array_equal(mixed[1], [0.5, 0.5, 0.0])


def test_softmax_of_a_row_that_rules_out_every_action_names_the_scorer():
    log, _ = simulate_bandit(50, n_actions=3, random_state=0)
    with pytest.raises(ValidationError, match="^scorer: scores every action -inf"):  # was "policy: must not be NaN"
        evaluate_policy(log, SoftmaxPolicy(lambda X: np.full((len(X), 3), -np.inf)), ["ips"], n_bootstrap=20)


def test_policy_scores_checks_rows_and_dtype():
    X = np.zeros((3, 1))
    with pytest.raises(ValidationError, match="^scorer: returned scores for 5 rows, given 3"):  # was returned as is
        policy_scores(lambda X: np.zeros((5, 2)), X, 2)
    with pytest.raises(ValidationError, match="^scorer: must return numeric scores"):  # was a bare ValueError
        policy_scores(lambda X: np.full((3, 2), "a"), X, 2)
    np.testing.assert_array_equal(policy_scores(lambda X: np.ones((3, 2), bool), X, 2), np.ones((3, 2)))


# -- reward models ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, field", [
    (dict(action=[0, -1]), "action"),                       # was silently one-hot at the last action
    (dict(action=[0, 5]), "action"),                        # was an IndexError
    (dict(action=[0, 1], n_positions=2), "position"),       # position None: every slot column was set
    (dict(action=[0, 1], context=[[0.5], [2.0], [3.0]]), "context"),  # was a broadcasting ValueError
    (dict(action=[0, 1], action_features="context"), "action_context"),  # was an IndexError
    (dict(action=[0, 1], n_actions="3"), "n_actions"),      # was a TypeError
])
def test_design_matrix_validates_its_inputs(kw, field):
    args = dict(context=[[0.5], [2.0]], position=None, n_actions=3, n_positions=None)
    args.update(kw)
    action = args.pop("action")
    with pytest.raises(ValidationError, match=f"^{field}:"):
        design_matrix(args.pop("context"), action, args.pop("position"), args.pop("n_actions"), args.pop("n_positions"),
                      **args)


def test_design_matrix_unchanged_on_valid_input():
    out = design_matrix(np.array([[0.5], [2.0]]), pd.Series([0, 2], index=[7, 3]), np.array([1, 0]), n_actions=3,
                        n_positions=2)
    expected = [[0.5, 1, 0, 0, 0, 1, 0.5, 0, 0], [2.0, 0, 0, 1, 1, 0, 0, 0, 2.0]]
    np.testing.assert_array_equal(out, expected)


def test_a_model_class_instead_of_an_instance_is_a_validation_error():
    log, _ = simulate_bandit(100, n_actions=3, random_state=0)
    with pytest.raises(ValidationError, match="^reward_model: must be an estimator instance.*Pass Ridge"):
        cross_fit_predict(log, Ridge)
    with pytest.raises(ValidationError, match="^reward_model: must be an estimator instance"):
        evaluate_policy(log, np.full((100, 3), 1 / 3), ["dr"], reward_model=Ridge, n_bootstrap=20)
    with pytest.raises(ValidationError, match="^reward_model: must be an estimator instance"):
        ContinuousRewardModel(Ridge)


def test_a_reward_model_that_fails_to_predict_names_the_fold():
    log, _ = simulate_bandit(100, n_actions=3, random_state=0)
    with pytest.raises(ValidationError, match="^reward_model: could not predict on fold 0"):  # was a bare ValueError
        cross_fit_predict(log, KNeighborsRegressor(n_neighbors=90))


# -- estimators, inputs, selection -------------------------------------------------------------------
def test_mips_self_normalized_must_be_a_boolean():
    with pytest.raises(ValidationError, match="^self_normalized:"):  # "no" silently meant True
        MarginalizedIPS(self_normalized="no")


def test_estimate_from_inputs_labels_and_non_log_inputs():
    log, _ = simulate_bandit(100, n_actions=3, random_state=0)
    U = np.full((100, 3), 1 / 3)
    inputs = prepare_inputs(log, U, estimators=["ips", "snips"])
    with pytest.raises(ValidationError, match="^labels: must hold one label per estimator"):  # was an IndexError
        estimate_from_inputs(["ips", "snips"], inputs, n_bootstrap=20, labels=["a"])
    with pytest.raises(ValidationError, match="^log: must be a workbench.data.BanditLog"):  # were AttributeErrors
        prepare_inputs(log.to_frame(), U)
    with pytest.raises(ValidationError, match="^log:"):
        importance_weights("log.parquet", U)


def test_summarise_replicates_validates_the_frame():
    reps = pd.DataFrame({"estimator": ["ips", "dm"] * 2, "value": [0.5, 0.4, 0.6, 0.45],
                         "ci_low": [0.4, 0.38, 0.5, 0.43], "ci_high": [0.6, 0.42, 0.7, 0.47],
                         "truth": [0.52, 0.52, 0.5, 0.5]})
    with pytest.raises(ValidationError, match="^reps: unknown column"):  # was a KeyError
        summarise_replicates(reps.drop(columns="truth"))
    with pytest.raises(ValidationError, match="^reps: must have at least one row"):  # was a KeyError
        summarise_replicates(reps.iloc[:0])
    with pytest.raises(ValidationError, match=r"^reps\['value'\]: must be numeric"):  # "0.5" was parsed silently
        summarise_replicates(reps.assign(value=reps["value"].astype(str)))
    with pytest.raises(ValidationError, match="^reps: must be a DataFrame"):  # was an AttributeError
        summarise_replicates(reps.to_dict("list"))
    shuffled = reps.set_index(pd.Index([9, 3, 7, 1]))
    pd.testing.assert_frame_equal(summarise_replicates(shuffled), summarise_replicates(reps))


# -- distributional ----------------------------------------------------------------------------------
def test_upper_tail_cvar_at_a_tiny_level_is_the_largest_reward():
    rng = np.random.default_rng(0)
    r, w = rng.normal(size=200), rng.exponential(size=200)
    res = off_policy_cdf_from_weights(r, w, n_bootstrap=20)
    assert res.cvar(1e-300, tail="upper").value == pytest.approx(r.max())  # was 0.0
    assert res.cvar(1e-300).value == pytest.approx(r.min())
    assert res.cvar(0.3, tail="upper").value == pytest.approx(-off_policy_cdf_from_weights(-r, w, n_bootstrap=20)
                                                              .cvar(0.3).value)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_cdf_std_of_huge_and_tiny_rewards(scale):
    rng = np.random.default_rng(0)
    r, w = rng.normal(size=200), rng.exponential(size=200)
    base = off_policy_cdf_from_weights(r, w, n_bootstrap=20).std()
    res = off_policy_cdf_from_weights(r * scale, w, n_bootstrap=20).std()  # was inf (1e200) and 0 (1e-200)
    assert res.value == pytest.approx(base.value * scale, rel=1e-12, abs=0)
    assert res.se == pytest.approx(base.se * scale, rel=1e-9, abs=0)


def _direct_replicate_cdfs(r, w, thresholds, B, seed, self_normalize=True):
    """The replicate CDFs by definition: the hashed Poisson weights of every row, no atoms, no blocks."""
    from workbench._random import hashed_poisson_weights, unit_keys

    W = hashed_poisson_weights(unit_keys(np.arange(len(r), dtype=np.int64), seed), 0, B).astype(float)
    M = W * w[:, None]
    below = (r[:, None] <= thresholds[None, :]).astype(float)
    num = M.T @ below
    den = M.sum(axis=0) if self_normalize else W.sum(axis=0)
    return np.clip(num / den[:, None], 0, 1)


@pytest.mark.parametrize("kind", ["binary", "ratings", "continuous"])
@pytest.mark.parametrize("self_normalize", [True, False])
@pytest.mark.parametrize("one_pass", [True, False])
def test_cdf_replicates_by_atoms_equal_the_definition(kind, self_normalize, one_pass, monkeypatch):
    # Scale fix: replicate masses are summed per distinct reward (one pass over rows for all
    # replicates, or replicate blocks); the result must equal the row-by-row definition.
    import workbench.ope.distributional as D

    atom_bytes = D._ATOM_BYTES
    if not one_pass:
        monkeypatch.setattr(D, "_ATOM_BYTES", 0)
    # the smallest blocks: rows in blocks of 64 (11 blocks, atoms straddling them) on the one-pass route,
    # replicates in blocks of 4 (the last of 1; no cached masses) on the other; at the default sizes
    # each route was a single block here, and summing across blocks went untested
    monkeypatch.setattr(D, "_ROW_BLOCK_BYTES", 0)
    monkeypatch.setattr(D, "_BLOCK_BYTES", 0)
    rng = np.random.default_rng(3)
    n, B = 700, 37
    r = {"binary": (rng.random(n) < 0.3).astype(float), "ratings": rng.integers(1, 6, n).astype(float),
         "continuous": rng.normal(size=n)}[kind]
    w = rng.exponential(size=n) * (rng.random(n) < 0.8)
    w[0] = 1.0
    res = off_policy_cdf_from_weights(r, w, self_normalize=self_normalize, n_bootstrap=B, random_state=5)
    np.testing.assert_allclose(res.replicate_cdfs, _direct_replicate_cdfs(r, w, res.thresholds, B, 5, self_normalize),
                               rtol=1e-12, atol=1e-14)
    # functionals from the other route's masses (no cached masses) equal these
    monkeypatch.setattr(D, "_ATOM_BYTES", 0 if one_pass else atom_bytes)
    fresh = D.OffPolicyCDF(**{**{f: getattr(res, f) for f in res.__dataclass_fields__}, "_masses": None})
    np.testing.assert_allclose(res.summary()[["value", "ci_low", "ci_high", "se"]].to_numpy(),
                               fresh.summary()[["value", "ci_low", "ci_high", "se"]].to_numpy(), rtol=1e-12, atol=1e-14)


def test_cdf_mean_replicates_equal_snips_with_ties_and_units():
    from workbench.ope import SelfNormalizedIPS

    log, _ = simulate_bandit(600, n_actions=3, random_state=2)  # 0/1 rewards: two atoms
    log = BanditLog(action=log.action, reward=log.reward, propensity=log.propensity, unit_id=np.arange(600) // 4)
    target = np.tile([0.6, 0.3, 0.1], (600, 1))
    res = off_policy_cdf_from_weights(log.reward, importance_weights(log, target), unit_id=log.unit_id,
                                      n_bootstrap=50, random_state=1)
    ref = SelfNormalizedIPS().estimate_interval(log, target, n_bootstrap=50, random_state=1)
    m = res.mean()
    assert m.value == pytest.approx(ref.value, rel=1e-12)
    assert m.se == pytest.approx(ref.se, rel=1e-9)
    assert (m.ci_low, m.ci_high) == pytest.approx((ref.ci_low, ref.ci_high), rel=1e-9)


# -- continuous: chunked reward-model predictions -------------------------------------------------------
def test_continuous_reward_model_predicts_in_chunks_with_the_same_values(monkeypatch):
    import workbench.ope.continuous as C

    log, truth = simulate_pricing(500, random_state=0)
    c = truth.optimal_action()
    kw = dict(bandwidth=0.7, estimators=["dr", "dm"], reward_model=Ridge(), n_bootstrap=30)
    whole = C.evaluate_continuous_policy(log, c, **kw)
    model = ContinuousRewardModel(Ridge(), n_folds=3).fit(log)
    nodes = np.tile(np.linspace(1, 10, 48), (500, 1))
    q_whole = model.predict(nodes)
    monkeypatch.setattr(C, "_PREDICT_CHUNK", 100)  # 2 rows per chunk of 48 nodes
    pd.testing.assert_frame_equal(C.evaluate_continuous_policy(log, c, **kw), whole)
    np.testing.assert_array_equal(model.predict(nodes), q_whole)
    # the direct computation: fold k's model at [context, action] for that fold's rows
    X = np.column_stack([np.repeat(log.context, 48, axis=0), nodes.ravel()])
    fold = np.repeat(model.fold_, 48)
    direct = np.empty(X.shape[0])
    for k, mod in enumerate(model.models_):
        direct[fold == k] = mod.predict(X[fold == k])
    np.testing.assert_allclose(q_whole.ravel(), direct, rtol=1e-12)


def test_continuous_reward_model_predict_checks_its_input():
    log, _ = simulate_pricing(50, random_state=0)
    with pytest.raises(ValidationError, match="^reward_model: is not fitted"):  # was an AttributeError
        ContinuousRewardModel(Ridge()).predict(log.action)
    model = ContinuousRewardModel(Ridge(), n_folds=2).fit(log)
    with pytest.raises(ValidationError, match="^action: must have one row per row of the log"):
        model.predict(log.action[:10])
