"""workbench.ope estimators: textbook formulas, slots, MIPS weights, shared resamples, validation."""
import warnings

import numpy as np
import pytest

import workbench as wb
from workbench._engine import ReplicateAccumulator, Resampling
from workbench.ope import (DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting, MarginalizedIPS,
                           SelfNormalizedIPS, SubGaussianIPS, SwitchDR, evaluate_policy)

ALL = ["dm", "ips", "snips", "dr", "sndr", "switch-dr", "dr-os", "sg-ips"]


def _log(n=3000, k=4, seed=0, positions=None, behavior=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    logits = x @ rng.standard_normal((2, k))
    pb = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pb = 0.5 * pb + 0.5 / k
    if positions:
        pb3 = np.repeat(pb[:, :, None], positions, axis=2)
        pos = rng.integers(0, positions, n)
    a = (rng.random(n)[:, None] > np.cumsum(pb, 1)).sum(1).clip(max=k - 1)
    r = (rng.random(n) < 0.1 + 0.15 * a / k + 0.05 * (x[:, 0] > 0)).astype(float)
    kw = dict(action=a, reward=r, propensity=pb[np.arange(n), a], n_actions=k, context=x)
    if positions:
        kw.update(position=pos, n_positions=positions, behavior_dist=pb3 if behavior else None)
    elif behavior:
        kw.update(behavior_dist=pb)
    return wb.data.BanditLog(**kw), rng


def _pe(rng, n, k, positions=None):
    shape = (n, positions) if positions else (n,)
    d = rng.dirichlet(np.ones(k), size=shape)
    return np.moveaxis(d, -1, 1) if positions else d


def test_every_estimator_matches_its_textbook_formula():
    log, rng = _log()
    n, k = len(log), log.n_actions
    pe = _pe(rng, n, k)
    q = rng.uniform(0.05, 0.4, size=(n, k))
    rows = np.arange(n)
    w = pe[rows, log.action] / log.propensity
    r = log.reward
    qa = q[rows, log.action]
    qpi = (pe * q).sum(1)
    lam = 3.0
    expected = {
        "dm": qpi.mean(),
        "ips": (w * r).mean(),
        "snips": (w * r).mean() / w.mean(),
        "dr": (qpi + w * (r - qa)).mean(),
        "sndr": qpi.mean() + (w * (r - qa)).mean() / w.mean(),
        "switch-dr(lambda_=3)": (qpi + (w <= lam) * w * (r - qa)).mean(),
        "dr-os(lambda_=3)": (qpi + lam * w / (w ** 2 + lam) * (r - qa)).mean(),
        "sg-ips(lambda_=0.2)": (w / (1 - 0.2 + 0.2 * w) * r).mean(),
        "ips(clip=2)": (np.minimum(w, 2) * r).mean(),
    }
    ests = ["dm", "ips", "snips", "dr", "sndr", SwitchDR(lambda_=3.0), DoublyRobustWithShrinkage(lambda_=3.0),
            SubGaussianIPS(lambda_=0.2), InverseProbabilityWeighting(clip=2.0)]
    out = evaluate_policy(log, pe, estimators=ests, reward_model=q, n_bootstrap=50, warn=False)
    assert list(out["estimator"]) == list(expected)
    np.testing.assert_allclose(out["value"].to_numpy(), list(expected.values()), rtol=1e-12)
    # obp-like single-estimator entry point gives the same numbers
    assert np.isclose(DoublyRobust().estimate_policy_value(log, pe, q), expected["dr"], rtol=1e-12)


def test_limits_of_the_tuned_families():
    log, rng = _log(seed=1)
    pe = _pe(rng, len(log), log.n_actions)
    q = rng.uniform(0, 1, size=pe.shape)
    v = lambda e: e.estimate_policy_value(log, pe, q)  # noqa: E731
    assert np.isclose(v(SwitchDR(lambda_=np.inf)), v(DoublyRobust()), rtol=1e-12)
    assert np.isclose(v(SwitchDR(lambda_=0.0)), v(wb.ope.DirectMethod()), rtol=1e-12)
    assert np.isclose(v(DoublyRobustWithShrinkage(lambda_=0.0)), v(wb.ope.DirectMethod()), rtol=1e-12)
    assert np.isclose(v(DoublyRobustWithShrinkage(lambda_=1e12)), v(DoublyRobust()), rtol=1e-6)
    assert np.isclose(v(SubGaussianIPS(lambda_=0.0)), v(InverseProbabilityWeighting()), rtol=1e-12)


def test_slots_take_the_weight_at_the_logged_action_and_position():
    log, rng = _log(n=2000, k=5, positions=3, seed=2)
    n, k = len(log), log.n_actions
    pe = _pe(rng, n, k, positions=3)
    assert pe.shape == (n, k, 3)
    rows = np.arange(n)
    w = pe[rows, log.action, log.position] / log.propensity
    q = rng.uniform(0, 0.5, size=(n, k, 3))
    qpi = (pe[rows, :, log.position] * q[rows, :, log.position]).sum(1)
    out = evaluate_policy(log, pe, estimators=["ips", "dr"], reward_model=q, n_bootstrap=50, warn=False)
    assert np.isclose(out["value"].iloc[0], np.mean(w * log.reward), rtol=1e-12)
    assert np.isclose(out["value"].iloc[1], np.mean(qpi + w * (log.reward - q[rows, log.action, log.position])),
                      rtol=1e-12)
    # a 2-D target on a slotted log is the same distribution at every slot
    pe2 = _pe(rng, n, k)
    out2 = evaluate_policy(log, pe2, estimators=["ips"], n_bootstrap=50, warn=False)
    assert np.isclose(out2["value"].iloc[0], np.mean(pe2[rows, log.action] / log.propensity * log.reward))


def test_mips_weights_are_exact_for_discrete_embeddings():
    rng = np.random.default_rng(3)
    n, k = 4000, 6
    emb = np.array([[0, 0], [0, 0], [1, 0], [1, 0], [1, 1], [2, 1]], dtype=float)  # groups {0,1},{2,3},{4},{5}
    pb = rng.dirichlet(np.ones(k), size=n) * 0.8 + 0.2 / k
    a = (rng.random(n)[:, None] > np.cumsum(pb, 1)).sum(1).clip(max=k - 1)
    r = rng.random(n)
    log = wb.data.BanditLog(action=a, reward=r, propensity=pb[np.arange(n), a], n_actions=k, action_context=emb,
                            behavior_dist=pb)
    pe = rng.dirichlet(np.ones(k), size=n)
    groups = [[0, 1], [0, 1], [2, 3], [2, 3], [4], [5]]
    num = np.array([pe[i, groups[a[i]]].sum() for i in range(n)])  # slow reference: a loop over rows
    den = np.array([pb[i, groups[a[i]]].sum() for i in range(n)])
    ref = np.mean(num / den * r)
    assert np.isclose(MarginalizedIPS().estimate_policy_value(log, pe), ref, rtol=1e-12)
    # only the first column: groups {0,1}, {2,3,4}, {5}
    g1 = [[0, 1], [0, 1], [2, 3, 4], [2, 3, 4], [2, 3, 4], [5]]
    num = np.array([pe[i, g1[a[i]]].sum() for i in range(n)])
    den = np.array([pb[i, g1[a[i]]].sum() for i in range(n)])
    sn = MarginalizedIPS(embedding_dims=(0,), self_normalized=True)
    assert np.isclose(sn.estimate_policy_value(log, pe), np.sum(num / den * r) / np.sum(num / den), rtol=1e-12)
    assert sn.label == "mips(embedding_dims=(0), self_normalized=True)"


def test_mips_is_unbiased_when_reward_depends_on_the_embedding_only():
    # 200 logs of 400 rows; the estimate's mean must sit within 3 Monte Carlo s.e. of the exact value.
    rng = np.random.default_rng(4)
    k, n, R = 8, 400, 200
    emb = np.repeat(np.arange(4), 2)[:, None].astype(float)
    q = np.array([0.1, 0.3, 0.5, 0.7])[emb[:, 0].astype(int)]
    pb = np.full(k, 1 / k)
    pe = np.array([0.0, 0.0, 0.05, 0.05, 0.1, 0.1, 0.0, 0.7])  # needs support over embeddings only
    truth = float(pe @ q)
    vals = []
    for _ in range(R):
        a = rng.choice(k, size=n, p=pb)
        r = (rng.random(n) < q[a]).astype(float)
        log = wb.data.BanditLog(action=a, reward=r, propensity=pb[a], n_actions=k, action_context=emb,
                                behavior_dist=np.tile(pb, (n, 1)))
        vals.append(MarginalizedIPS().estimate_policy_value(log, np.tile(pe, (n, 1))))
    vals = np.array(vals)
    assert abs(vals.mean() - truth) < 3 * vals.std(ddof=1) / np.sqrt(R)


def test_self_normalised_estimators_are_renormalised_in_every_replicate():
    # Reward 1 everywhere: SNIPS is exactly 1 in every resample (so se 0 and the interval [1, 1]),
    # while resampling terms normalised once on the full sample (obp #187) would give se > 0.
    log, rng = _log(n=2000, seed=5)
    log = wb.data.BanditLog(action=log.action, reward=np.ones(len(log)), propensity=log.propensity,
                            n_actions=log.n_actions)
    pe = _pe(rng, len(log), log.n_actions)
    out = evaluate_policy(log, pe, estimators=["ips", "snips"], n_bootstrap=300, warn=False)
    ips, snips = out.iloc[0], out.iloc[1]
    assert ips["se"] > 0.005
    assert snips["se"] < 1e-12 and np.isclose(snips["ci_low"], 1.0) and np.isclose(snips["ci_high"], 1.0)
    w = pe[np.arange(len(log)), log.action] / log.propensity
    once = ReplicateAccumulator(1, Resampling.make(300, random_state=0)).add((w / w.mean())[:, None])
    assert once.replicate_means[:, 0].std(ddof=1) > 0.005  # the once-normalised scheme is visibly different


def test_all_estimators_share_the_hashed_poisson_resamples_and_merge_over_chunks():
    log, rng = _log(n=3000, seed=6)
    pe = _pe(rng, len(log), log.n_actions)
    out = evaluate_policy(log, pe, estimators=["ips", "snips"], n_bootstrap=200, random_state=11, warn=False)
    w = pe[np.arange(len(log)), log.action] / log.propensity
    terms = np.column_stack([w * log.reward, w])
    rs = Resampling.make(200, scheme="poisson", random_state=11)
    whole = ReplicateAccumulator(2, rs).add(terms)
    ids = np.arange(len(log))
    chunked = ReplicateAccumulator(2, rs).add(terms[:1234], ids[:1234]).merge(
        ReplicateAccumulator(2, rs).add(terms[1234:], ids[1234:]))
    for acc in (whole, chunked):
        rm = acc.replicate_means
        assert np.isclose(out["se"].iloc[0], rm[:, 0].std(ddof=1), rtol=1e-10)
        assert np.isclose(out["se"].iloc[1], (rm[:, 0] / rm[:, 1]).std(ddof=1), rtol=1e-10)


def test_unit_ids_make_the_bootstrap_clustered():
    log, rng = _log(n=2000, seed=7)
    pe = _pe(rng, len(log), log.n_actions)
    users = np.repeat(np.arange(100), 20)
    clustered = wb.data.BanditLog(action=log.action, reward=log.reward, propensity=log.propensity,
                                  n_actions=log.n_actions, unit_id=users)
    a = evaluate_policy(log, pe, estimators=["ips"], n_bootstrap=200, warn=False)
    b = evaluate_policy(clustered, pe, estimators=["ips"], n_bootstrap=200, warn=False)
    assert a["value"].iloc[0] == b["value"].iloc[0]
    assert a["se"].iloc[0] != b["se"].iloc[0]


def test_reproducible_from_the_seed_and_different_across_seeds():
    log, rng = _log(seed=8)
    pe = _pe(rng, len(log), log.n_actions)
    kw = dict(estimators=ALL, n_bootstrap=200, warn=False)
    a = evaluate_policy(log, pe, random_state=3, **kw)
    b = evaluate_policy(log, pe, random_state=3, **kw)
    c = evaluate_policy(log, pe, random_state=4, **kw)
    assert a.equals(b)
    assert not np.allclose(a["ci_low"], c["ci_low"])


@pytest.mark.parametrize("method", ["percentile", "bca", "normal"])
def test_interval_methods_bracket_the_estimate(method):
    log, rng = _log(seed=9)
    pe = _pe(rng, len(log), log.n_actions)
    out = evaluate_policy(log, pe, estimators=ALL, n_bootstrap=400, interval=method, warn=False)
    assert (out["ci_low"] < out["value"]).all() and (out["value"] < out["ci_high"]).all()
    assert (out["interval"] == method).all()


def test_bernstein_bound_is_valid_and_refuses_what_it_cannot_bound():
    log, rng = _log(seed=10)
    pe = _pe(rng, len(log), log.n_actions)
    out = evaluate_policy(log, pe, estimators=["ips", InverseProbabilityWeighting(clip=3.0), "sg-ips"],
                          n_bootstrap=100, interval="bernstein", warn=False)
    boot = evaluate_policy(log, pe, estimators=["ips"], n_bootstrap=400, warn=False)
    # finite-sample bounds are wider than the asymptotic bootstrap interval
    assert out["ci_low"].iloc[0] <= boot["ci_low"].iloc[0] and out["ci_high"].iloc[0] >= boot["ci_high"].iloc[0]
    assert (out["ci_low"] <= out["value"]).all() and (out["value"] <= out["ci_high"]).all()
    with pytest.raises(wb.ValidationError, match="bernstein"):
        evaluate_policy(log, pe, estimators=["snips"], interval="bernstein", warn=False)
    cont = wb.data.BanditLog(action=log.action, reward=log.reward * 2.5, propensity=log.propensity,
                             n_actions=log.n_actions, behavior_dist=log.behavior_dist)
    with pytest.raises(wb.ValidationError, match="reward_range"):
        evaluate_policy(cont, pe, estimators=["ips"], interval="bernstein", warn=False)
    evaluate_policy(cont, pe, estimators=["ips"], interval="bernstein", reward_range=(0, 2.5), warn=False)
    with pytest.raises(wb.ValidationError, match="reward_range"):
        evaluate_policy(cont, pe, estimators=["ips"], interval="bernstein", reward_range=(0, 1), warn=False)


def test_diagnostics_columns_and_warnings():
    log, rng = _log(seed=11)
    n, k = len(log), log.n_actions
    pe = _pe(rng, n, k)
    out = evaluate_policy(log, pe, estimators=["dm", "ips"], n_bootstrap=50, warn=False)
    for col in ("ess", "mean_weight", "max_weight", "zero_support_share", "n_bootstrap"):
        assert col in out.columns
    assert np.isnan(out["ess"].iloc[0]) and out["ess"].iloc[1] > 0
    assert out["zero_support_share"].iloc[1] == 0.0
    # propensities that are off by a factor of 2 -> the mean weight is far from 1 -> a warning that says what to do
    bad = wb.data.BanditLog(action=log.action, reward=log.reward, propensity=log.propensity / 2, n_actions=k)
    with pytest.warns(wb.ope.OPEDiagnosticWarning, match="propensity"):
        evaluate_policy(bad, pe, estimators=["ips"], n_bootstrap=50)
    # a target on actions the logger never takes
    pb = np.tile([0.5, 0.5, 0.0, 0.0], (n, 1))
    a = rng.integers(0, 2, n)
    sup = wb.data.BanditLog(action=a, reward=log.reward, propensity=np.full(n, 0.5), n_actions=k, behavior_dist=pb)
    with pytest.warns(wb.ope.OPEDiagnosticWarning, match="never takes") as rec:
        res = evaluate_policy(sup, np.full((n, k), 0.25), estimators=["ips"], n_bootstrap=50)
    assert res["zero_support_share"].iloc[0] == 1.0
    # its mean weight (0.5) is what the missing support does: no advice to check the propensity column
    assert not any("propensity column" in str(w.message) for w in rec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate_policy(log, pe, estimators=["ips"], n_bootstrap=50)  # a healthy log stays quiet


def test_validation_errors_name_the_problem():
    log, rng = _log(seed=12, behavior=False)
    n, k = len(log), log.n_actions
    pe = _pe(rng, n, k)
    V = wb.ValidationError
    with pytest.raises(V, match=r"policy: must have shape"):
        evaluate_policy(log, pe[:, :3], estimators=["ips"])
    bad = pe.copy()
    bad[7] *= 1.1
    with pytest.raises(V, match=r"sum to 1.*first at row 7"):
        evaluate_policy(log, bad, estimators=["ips"])
    neg = pe.copy()
    neg[3, 0] = -0.1
    neg[3, 1] += 0.1
    with pytest.raises(V, match=r"\[0, 1\].*first at row 3"):
        evaluate_policy(log, neg, estimators=["ips"])
    with pytest.raises(V, match="unknown estimator"):
        evaluate_policy(log, pe, estimators=["ipw"])
    q = np.full((n, k), 0.2)
    q[5, 1] = np.nan
    with pytest.raises(V, match=r"reward_model: must be finite.*first at row 5"):
        evaluate_policy(log, pe, estimators=["dr"], reward_model=q)
    with pytest.raises(V, match="reward_model"):
        evaluate_policy(log, pe, estimators=["dr"], reward_model=np.zeros((n, k + 1)))
    with pytest.raises(V, match="behavior_dist"):
        evaluate_policy(log, pe, estimators=["mips"])
    with pytest.raises(V, match="positions"):
        evaluate_policy(log, np.repeat(pe[:, :, None], 2, axis=2), estimators=["ips"])
    with pytest.raises(V, match="clip"):
        InverseProbabilityWeighting(clip=-1)
    with pytest.raises(V, match="lambda_"):
        SubGaussianIPS(lambda_=1.5)
    with pytest.raises(V, match="interval"):
        evaluate_policy(log, pe, estimators=["ips"], interval="wald")
    with pytest.raises(V, match="alpha"):
        evaluate_policy(log, pe, estimators=["ips"], alpha=1.2)
    from sklearn.linear_model import Ridge

    with pytest.raises(V, match="n_folds"):
        evaluate_policy(log, pe, estimators=["dr"], reward_model=Ridge(), n_folds=1)


def test_bernstein_refused_where_no_bound_exists_in_memory_and_streamed():
    import pandas as pd

    from workbench import ValidationError

    rng = np.random.default_rng(0)
    n, k = 500, 3
    a = rng.integers(0, k, n)
    frame = pd.DataFrame({"action": a, "reward": rng.random(n), "propensity": np.full(n, 1 / k)})
    pe = rng.dirichlet(np.ones(k), size=n)
    for j in range(k):
        frame[f"pi_{j}"] = pe[:, j]
    log = wb.data.BanditLog(action=a, reward=frame["reward"], propensity=frame["propensity"], n_actions=k)
    for data, policy in ((log, pe), (frame, [f"pi_{j}" for j in range(k)])):
        with pytest.raises(ValidationError, match="'bernstein' is not available for 'snips'"):
            wb.ope.evaluate_policy(data, policy, ["snips"], interval="bernstein", reward_range=(0, 1), n_bootstrap=20)


# -- audit fixes -------------------------------------------------------------------------------
def test_sg_ips_weight_is_zero_where_the_target_never_plays():
    log = wb.data.BanditLog(action=[0, 1, 0, 1], reward=[1.0, 0, 1, 1], propensity=[0.5] * 4, n_actions=2)
    pol = np.tile([1.0, 0.0], (4, 1))
    assert SubGaussianIPS(lambda_=1.0).estimate_policy_value(log, pol) == 0.5  # mean of [1, 0, 1, 0]
    out = evaluate_policy(log, pol, estimators=[SubGaussianIPS(lambda_=1.0)], n_bootstrap=50, warn=False)
    assert np.isfinite(out[["value", "ci_low", "ci_high", "se"]].to_numpy()).all()


def test_sg_ips_automatic_lambda_uses_d2_of_at_least_one():
    """E_b[w^2] >= E_b[w]^2 = 1, so a plug-in below 1 (weights that happen to be small) must not inflate lambda."""
    log = wb.data.BanditLog(action=np.zeros(100, int), reward=np.ones(100), propensity=[0.5] * 100, n_actions=2)
    lam = lambda p0: SubGaussianIPS().resolved_lambda(wb.ope.prepare_inputs(log, np.tile([p0, 1 - p0], (100, 1))))  # noqa: E731
    rule = np.sqrt(2 * np.log(1 / 0.05) / (3 * 100))  # with d2 = 1
    assert lam(0.5) == pytest.approx(rule)  # w = 1
    assert lam(0.9) == pytest.approx(rule / 1.8)  # w = 1.8, d2 = 3.24
    assert lam(0.1) == pytest.approx(rule)  # w = 0.2: the plug-in 0.04 would give 5x the rule


def test_no_support_on_the_logged_actions_gets_its_own_warning():
    log, _ = _log(n=2000, k=4, seed=3)
    zm = np.eye(4)[(log.action + 1) % 4]
    with pytest.warns(wb.ope.OPEDiagnosticWarning) as rec:
        out = evaluate_policy(log, zm, estimators=["ips", "snips"], n_bootstrap=50)
    msgs = [str(w.message) for w in rec if issubclass(w.category, wb.ope.OPEDiagnosticWarning)]
    assert len(msgs) == 1 and "no support on the logged actions" in msgs[0]
    assert "less sensitive" not in msgs[0] and "prefer dr/sndr" not in msgs[0]  # snips / sndr are no remedy here
    assert out["value"].iloc[0] == 0.0 and np.isnan(out["value"].iloc[1])


@pytest.mark.parametrize("interval", ["percentile", "bca", "normal"])
def test_one_row_or_one_unit_gives_nan_intervals_with_a_reason(interval):
    one = wb.data.BanditLog(action=[0], reward=[1.0], propensity=[0.5], n_actions=2)
    with pytest.warns(wb.ope.OPEDiagnosticWarning, match="single row"):
        out = evaluate_policy(one, [[0.5, 0.5]], estimators=["ips"], n_bootstrap=50, interval=interval)
    assert out["value"].iloc[0] == 1.0 and out[["ci_low", "ci_high", "se"]].isna().all(axis=None)
    log, rng = _log(n=200, seed=4)
    unit = wb.data.BanditLog(action=log.action, reward=log.reward, propensity=log.propensity, n_actions=4,
                             unit_id=np.full(200, 7))
    with pytest.warns(wb.ope.OPEDiagnosticWarning, match="single unit"):
        out = evaluate_policy(unit, _pe(rng, 200, 4), estimators=["ips"], n_bootstrap=50, interval=interval)
    assert np.isfinite(out["value"].iloc[0]) and out[["ci_low", "ci_high", "se"]].isna().all(axis=None)


def test_integer_and_pair_parameters_are_checked_not_coerced():
    log, rng = _log(n=300, seed=5)
    pe = _pe(rng, 300, 4)
    with pytest.raises(wb.ValidationError, match="^n_bootstrap: must be an integer"):
        evaluate_policy(log, pe, estimators=["ips"], n_bootstrap=2.7)
    with pytest.raises(wb.ValidationError, match="^n_folds: must be an integer"):
        evaluate_policy(log, pe, estimators=["dr"], n_folds=2.5)
    with pytest.raises(wb.ValidationError, match=r"^reward_range: must be a pair"):
        evaluate_policy(log, pe, estimators=["ips"], interval="bernstein", reward_range=(1, 2, 3))
    with pytest.raises(wb.ValidationError, match="^embedding_dims: must be an integer"):
        MarginalizedIPS(embedding_dims=1.5)
