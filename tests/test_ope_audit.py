"""Test-gap audit of the OPE pillar: Monte Carlo evidence for what had only formula or smoke tests.

Every test draws fresh logs from an environment whose answer is exact, and states its band:

* unbiasedness: the mean over R replicates within 3 Monte Carlo standard errors of the exact value;
* coverage of 95% intervals: fast tier R = 200 logs, band [0.90, 0.99] (+-3 binomial s.e. around
  0.95 is [0.904, 0.996]); slow tier R = 2000 logs, band [0.93, 0.97].

Items covered here (see the audit report): every discrete estimator (dm, ips, snips, dr, sndr,
switch-dr, dr-os, sg-ips, mips) under every bootstrap interval (percentile, normal, bca); IPS / DR with
positions (3-D targets); clustered logs (unit_id) where a row bootstrap under-covers; the
continuous estimators' other intervals; quantile, CVaR and uniform-band coverage of the off-policy
CDF; compare_policies' paired differences and Bonferroni bounds.
"""
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import ndtr, softmax
from scipy.stats import norm

import workbench as wb
from workbench.ope import (DoublyRobustWithShrinkage, InverseProbabilityWeighting, MarginalizedIPS, SubGaussianIPS,
                           SwitchDR, compare_policies, evaluate_policy, estimate_from_inputs, prepare_inputs)

FAST, SLOW = (0.90, 0.99), (0.93, 0.97)

# ------------------------------------------------------------------------------------------------
# A discrete environment with an exact answer (5 context types, 4 actions, 2 embedding groups)
# ------------------------------------------------------------------------------------------------
from _discrete_env import P_X, PI_B, PI_E, Q  # tests/ is on sys.path (pytest prepends it)
W = PI_E / PI_B  # the importance weight of every (context, action)
WRONG_Q = np.clip(Q + np.array([0.15, -0.1, 0.05, 0.2]), 0, 1)  # a fixed, misspecified reward model
EMB = np.array([[0.0], [0.0], [1.0], [1.0]])  # actions {0, 1} and {2, 3} share an embedding
TRUTH = float(P_X @ (PI_E * Q).sum(axis=1))

LAM = 3.0
ESTIMATORS = ["dm", "ips", "snips", "dr", "sndr", SwitchDR(lambda_=LAM), DoublyRobustWithShrinkage(lambda_=LAM),
              SubGaussianIPS(lambda_=0.1), InverseProbabilityWeighting(clip=LAM), MarginalizedIPS()]


def _expected(g=None, direct=True, reward=Q):
    """E[q(x, pi_e) + g(w) (r - q(x, a))] (direct) or E[g(w) r] under the logger, exactly."""
    gw = W if g is None else g(W)
    if direct:
        return float(P_X @ ((PI_E * WRONG_Q).sum(1) + (PI_B * gw * (Q - WRONG_Q)).sum(1)))
    return float(P_X @ (PI_B * gw * reward).sum(1))


def _mips_target():
    """MIPS' expectation: E_b[w(x, e) r], w(x, e) = pi_e(group | x) / pi_b(group | x)."""
    grp = EMB[:, 0].astype(int)
    pe_g = np.stack([PI_E[:, grp == g].sum(1) for g in (0, 1)], 1)[:, grp]
    pb_g = np.stack([PI_B[:, grp == g].sum(1) for g in (0, 1)], 1)[:, grp]
    return float(P_X @ (PI_B * (pe_g / pb_g) * Q).sum(1))


# What each estimator's interval must cover: its own expectation with the fixed (wrong) reward
# model -- the documented promise ("sampling noise given the reward model's predictions") -- which is
# the true value exactly for the unbiased ones; the true value for the consistent ratios.
TARGETS = {
    "dm": _expected(lambda w: 0 * w),
    "ips": TRUTH,
    "snips": TRUTH,
    "dr": TRUTH,
    "sndr": TRUTH,
    "switch-dr(lambda_=3)": _expected(lambda w: np.where(w <= LAM, w, 0.0)),
    "dr-os(lambda_=3)": _expected(lambda w: LAM * w / (w * w + LAM)),
    "sg-ips(lambda_=0.1)": _expected(lambda w: w / (1 - 0.1 + 0.1 * w), direct=False),
    "ips(clip=3)": _expected(lambda w: np.minimum(w, LAM), direct=False),
    "mips": _mips_target(),
}


def draw_log(n, rng, unit_id=None, xc=None):
    xc = rng.choice(5, size=n, p=P_X) if xc is None else xc
    pb = PI_B[xc]
    a = (rng.random(n)[:, None] > np.cumsum(pb, axis=1)).sum(axis=1).clip(max=3)
    r = (rng.random(n) < Q[xc, a]).astype(float)
    log = wb.data.BanditLog(action=a, reward=r, propensity=pb[np.arange(n), a], n_actions=4,
                            context=np.eye(5)[xc], behavior_dist=pb, action_context=EMB, unit_id=unit_id)
    return log, PI_E[xc], xc


def _all_estimators_run(R, n, B, seed):
    """Values and coverage (percentile, normal, bca) of every estimator over R logs."""
    rng = np.random.default_rng(seed)
    labels = list(TARGETS)
    target = np.array([TARGETS[k] for k in labels])
    values = np.empty((R, len(labels)))
    hits = {m: np.zeros(len(labels)) for m in ("percentile", "normal", "bca")}
    for i in range(R):
        log, pe, xc = draw_log(n, rng)
        inputs = prepare_inputs(log, pe, reward_model=WRONG_Q[xc], estimators=ESTIMATORS)
        for m in hits:
            res = estimate_from_inputs(ESTIMATORS, inputs, n_bootstrap=B, interval=m, random_state=i, warn=False)
            assert [r.name for r in res] == labels
            lo, hi = np.array([r.ci_low for r in res]), np.array([r.ci_high for r in res])
            hits[m] += (lo <= target) & (target <= hi)
        values[i] = [r.value for r in res]
    return labels, target, values, {m: h / R for m, h in hits.items()}


def _check_all_estimators(R, n, B, seed, band):
    labels, target, values, cov = _all_estimators_run(R, n, B, seed)
    mcse = values.std(axis=0, ddof=1) / np.sqrt(R)
    err = values.mean(axis=0) - target
    # unbiased for their expectation (the ratio estimators snips / sndr: O(1/n) bias, 1e-3 slack)
    slack = np.array([1e-3 if k in ("snips", "sndr") else 0.0 for k in labels])
    assert np.all(np.abs(err) < 3 * mcse + slack), dict(zip(labels, zip(err, mcse)))
    for m, c in cov.items():
        assert np.all((c >= band[0]) & (c <= band[1])), (m, dict(zip(labels, c)))


def test_every_estimator_is_unbiased_and_every_interval_covers_fast():
    # R = 200 logs of 800 rows, B = 300; 10 estimators x {percentile, normal, bca}: coverage in [0.90, 0.99];
    # each estimator's mean within 3 MC s.e. of its exact expectation.
    _check_all_estimators(R=200, n=800, B=300, seed=10, band=FAST)


@pytest.mark.slow
def test_every_estimator_is_unbiased_and_every_interval_covers_thorough():
    # R = 2000 logs of 1000 rows, B = 500: coverage within [0.93, 0.97].
    _check_all_estimators(R=2000, n=1000, B=500, seed=11, band=SLOW)


# ------------------------------------------------------------------------------------------------
# Positions: a 3-D target, rewards and logging that depend on the slot
# ------------------------------------------------------------------------------------------------
N_POS = 3
P_POS = np.array([0.5, 0.3, 0.2])
POS_SCALE = np.array([1.0, 0.6, 0.3])  # examination probability of each slot
PI_B3 = np.stack([PI_B, np.roll(PI_B, 1, axis=1), 0.5 * PI_B + 0.125], axis=2)  # (x, a, pos)
PI_E3 = np.stack([PI_E, np.roll(PI_E, 2, axis=1), np.full((5, 4), 0.25)], axis=2)
Q3 = Q[:, :, None] * POS_SCALE[None, None, :]
TRUTH3 = float(np.einsum("x,p,xap,xap->", P_X, P_POS, PI_E3, Q3))
WRONG_Q3 = np.clip(Q3 + 0.15, 0, 1)


def _draw_slotted(n, rng):
    xc = rng.choice(5, size=n, p=P_X)
    pos = rng.choice(N_POS, size=n, p=P_POS)
    pb = PI_B3[xc, :, pos]
    a = (rng.random(n)[:, None] > np.cumsum(pb, axis=1)).sum(axis=1).clip(max=3)
    r = (rng.random(n) < Q3[xc, a, pos]).astype(float)
    log = wb.data.BanditLog(action=a, reward=r, propensity=pb[np.arange(n), a], n_actions=4, position=pos,
                            n_positions=N_POS, context=np.eye(5)[xc], behavior_dist=PI_B3[xc])
    return log, PI_E3[xc], xc


def _slotted_run(R, n, B, seed):
    rng = np.random.default_rng(seed)
    vals = np.empty((R, 2))
    hits = np.zeros(2)
    for i in range(R):
        log, pe, xc = _draw_slotted(n, rng)
        out = evaluate_policy(log, pe, estimators=["ips", "dr"], reward_model=WRONG_Q3[xc], n_bootstrap=B,
                              random_state=i, warn=False)
        vals[i] = out["value"]
        hits += (out["ci_low"] <= TRUTH3) & (TRUTH3 <= out["ci_high"])
    return vals, hits / R


def test_ips_and_dr_with_positions_are_unbiased_and_cover_fast():
    # 3 slots, slot-dependent rewards, logging and target; DR with a wrong (n, k, 3) model.
    # R = 200 logs of 600 rows, B = 300: means within 3 MC s.e. of V; percentile coverage in [0.90, 0.99].
    vals, cov = _slotted_run(R=200, n=600, B=300, seed=20)
    mcse = vals.std(axis=0, ddof=1) / np.sqrt(len(vals))
    assert np.all(np.abs(vals.mean(axis=0) - TRUTH3) < 3 * mcse), (vals.mean(axis=0), TRUTH3, mcse)
    assert np.all((cov >= FAST[0]) & (cov <= FAST[1])), cov


@pytest.mark.slow
def test_ips_and_dr_with_positions_thorough():
    # R = 2000 logs of 1000 rows, B = 500: coverage within [0.93, 0.97], bias within 3 MC s.e.
    vals, cov = _slotted_run(R=2000, n=1000, B=500, seed=21)
    mcse = vals.std(axis=0, ddof=1) / np.sqrt(len(vals))
    assert np.all(np.abs(vals.mean(axis=0) - TRUTH3) < 3 * mcse)
    assert np.all((cov >= SLOW[0]) & (cov <= SLOW[1])), cov


# ------------------------------------------------------------------------------------------------
# Clustered logs: rows of one unit share a context and a reward shift
# ------------------------------------------------------------------------------------------------
def _draw_clustered(G, m, rng):
    """G units of m rows. Each unit has one context type and a mean-zero reward shift of +-0.3
    (the environment's value is unchanged), so rows of a unit are strongly correlated."""
    xu = rng.choice(5, size=G, p=P_X)
    shift = rng.choice([-0.3, 0.3], size=G)
    xc, s = np.repeat(xu, m), np.repeat(shift, m)
    n = G * m
    pb = PI_B[xc]
    a = (rng.random(n)[:, None] > np.cumsum(pb, axis=1)).sum(axis=1).clip(max=3)
    p = np.clip(Q[xc, a] + s, 0, 1)
    r = (rng.random(n) < p).astype(float)
    unit = np.repeat(np.arange(G), m)
    log = wb.data.BanditLog(action=a, reward=r, propensity=pb[np.arange(n), a], n_actions=4,
                            context=np.eye(5)[xc], unit_id=unit)
    return log, PI_E[xc], xc


# Q + 0.3 <= 1 everywhere and Q - 0.3 is clipped at 0 where Q < 0.3: the value is E_pi_e[clip(Q + s, 0, 1)], exactly
TRUTH_CL = float(P_X @ (PI_E * 0.5 * (np.clip(Q + 0.3, 0, 1) + np.clip(Q - 0.3, 0, 1))).sum(axis=1))


def _clustered_run(R, G, m, B, seed):
    rng = np.random.default_rng(seed)
    hits = {k: np.zeros(2) for k in ("cluster-poisson", "cluster-multinomial", "cluster-bca", "rows")}
    for i in range(R):
        log, pe, xc = _draw_clustered(G, m, rng)
        q = WRONG_Q[xc]
        kw = dict(estimators=["ips", "dr"], reward_model=q, n_bootstrap=B, random_state=i, warn=False)
        outs = {"cluster-poisson": evaluate_policy(log, pe, **kw),
                "cluster-multinomial": evaluate_policy(log, pe, resampling="multinomial", **kw),
                "cluster-bca": evaluate_policy(log, pe, interval="bca", **kw)}
        rows = wb.data.BanditLog(action=log.action, reward=log.reward, propensity=log.propensity, n_actions=4,
                                 context=log.context)  # the same log, unit_id dropped: a row bootstrap
        outs["rows"] = evaluate_policy(rows, pe, **kw)
        for k, out in outs.items():
            hits[k] += (out["ci_low"] <= TRUTH_CL) & (TRUTH_CL <= out["ci_high"])
    return {k: h / R for k, h in hits.items()}


def test_clustered_logs_cluster_bootstrap_covers_where_rows_undercover_fast():
    # R = 200 logs of 100 units x 20 rows, B = 300, ips and dr. The cluster bootstrap (poisson, multinomial,
    # bca) covers in [0.90, 0.99]; the row bootstrap of the same logs covers below 0.85 (measured ~0.6-0.7).
    cov = _clustered_run(R=200, G=100, m=20, B=300, seed=30)
    for k in ("cluster-poisson", "cluster-multinomial", "cluster-bca"):
        assert np.all((cov[k] >= FAST[0]) & (cov[k] <= FAST[1])), (k, cov)
    assert np.all(cov["rows"] < 0.85), cov


@pytest.mark.slow
def test_clustered_logs_thorough():
    # R = 2000 logs of 200 units x 20 rows, B = 500: cluster coverage within [0.93, 0.97], rows < 0.85.
    cov = _clustered_run(R=2000, G=200, m=20, B=500, seed=31)
    for k in ("cluster-poisson", "cluster-multinomial", "cluster-bca"):
        assert np.all((cov[k] >= SLOW[0]) & (cov[k] <= SLOW[1])), (k, cov)
    assert np.all(cov["rows"] < 0.85), cov


# ------------------------------------------------------------------------------------------------
# Distributional OPE: quantile, CVaR and mean intervals, and the uniform band, against exact values
# ------------------------------------------------------------------------------------------------
MU, SD = np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.5, 1.5])  # reward | a ~ N(MU[a], SD[a])
PB_D, PE_D = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])


def _mix_cdf(t):
    return float(PE_D @ ndtr((t - MU) / SD))


def _mix_quantile(u):
    return brentq(lambda t: _mix_cdf(t) - u, -10, 10, xtol=1e-12)


def _mix_cvar(level):
    """(1 / level) E[R 1{R <= q_level}] for the target's normal mixture."""
    z = (_mix_quantile(level) - MU) / SD
    return float(PE_D @ (MU * ndtr(z) - SD * norm.pdf(z))) / level


DIST_TRUTH = {"mean": float(PE_D @ MU), "quantile 0.5": _mix_quantile(0.5), "quantile 0.1": _mix_quantile(0.1),
              "cvar 0.1": _mix_cvar(0.1)}
GRID = np.array([_mix_quantile(u) for u in np.linspace(0.05, 0.95, 19)])  # F(GRID) = 0.05, 0.10, ..., 0.95


def _draw_dist_log(n, rng):
    a = rng.choice(3, size=n, p=PB_D)
    r = rng.normal(MU[a], SD[a])
    log = wb.data.BanditLog(action=a, reward=r, propensity=PB_D[a], n_actions=3)
    return log, np.tile(PE_D, (n, 1))


def _dist_coverage(R, n, B, seed):
    from workbench.ope import off_policy_cdf

    rng = np.random.default_rng(seed)
    names = list(DIST_TRUTH)
    hits = dict.fromkeys(names, 0) | {"uniform band": 0, "pointwise band, all 19 at once": 0}
    true_grid = np.linspace(0.05, 0.95, 19)
    for i in range(R):
        log, pe = _draw_dist_log(n, rng)
        uni = off_policy_cdf(log, pe, thresholds=GRID, band="uniform", n_bootstrap=B, random_state=i)
        pw = off_policy_cdf(log, pe, thresholds=GRID, band="pointwise", n_bootstrap=B, random_state=i)
        hits["uniform band"] += np.all((uni.ci_low <= true_grid) & (true_grid <= uni.ci_high))
        hits["pointwise band, all 19 at once"] += np.all((pw.ci_low <= true_grid) & (true_grid <= pw.ci_high))
        s = uni.summary(quantiles=(0.5, 0.1), cvar_levels=(0.1,)).set_index("statistic")
        for k in names:
            hits[k] += s.loc[k, "ci_low"] <= DIST_TRUTH[k] <= s.loc[k, "ci_high"]
    return {k: v / R for k, v in hits.items()}


def test_cdf_functionals_and_uniform_band_cover_fast():
    # R = 200 logs of 600 rows, B = 200: 95% intervals for the mean, median, 10% quantile and CVaR 10%, and the
    # 95% sup-t band over 19 thresholds (all at once), cover in [0.90, 0.99]; the pointwise band, read as a band
    # for all 19 thresholds at once, covers visibly less (< 0.85): the uniform band is not a pointwise one.
    cov = _dist_coverage(R=200, n=600, B=200, seed=40)
    for k in (*DIST_TRUTH, "uniform band"):
        assert FAST[0] <= cov[k] <= FAST[1], (k, cov)
    assert cov["pointwise band, all 19 at once"] < 0.85, cov


@pytest.mark.slow
def test_cdf_functionals_and_uniform_band_cover_thorough():
    # R = 1000 logs of 1000 rows, B = 400: within [0.93, 0.97] (binomial s.e. 0.7 points), except CVaR 10%:
    # [0.90, 0.97]. Its percentile interval under-covers at this size (measured 0.916): no detectable bias (300
    # logs: +0.006 +- 0.005) but the bootstrap s.e. of a tail mean from ~100 weighted rows is ~6% too small
    # (0.082 vs the sd 0.087); at n = 4000 the two agree (0.043 vs 0.040). The sup-t band over 19 thresholds:
    # [0.91, 0.97] (measured 0.923; the bootstrap sup-t critical value is slightly small at this size).
    cov = _dist_coverage(R=1000, n=1000, B=400, seed=41)
    for k in (*DIST_TRUTH, "uniform band"):
        lo = {"cvar 0.1": 0.90, "uniform band": 0.91}.get(k, SLOW[0])
        assert lo <= cov[k] <= SLOW[1], (k, cov)


# ------------------------------------------------------------------------------------------------
# compare_policies: paired differences and the Bonferroni-adjusted pessimistic choice
# ------------------------------------------------------------------------------------------------
PI_U = np.full((5, 4), 0.25)
PI_G = 0.9 * np.eye(4)[Q.argmax(axis=1)] + 0.1 * PI_U  # mostly greedy on the true Q: the best candidate
CANDIDATES = {"target": PI_E, "uniform": PI_U, "greedy": PI_G}
VALUES = {k: float(P_X @ (p * Q).sum(axis=1)) for k, p in CANDIDATES.items()}


def _compare_run(R, n, B, seed):
    rng = np.random.default_rng(seed)
    names = list(CANDIDATES)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    pair_hits = np.zeros(len(pairs))
    simultaneous = {"none": 0, "bonferroni": 0}
    chosen_bound_holds = 0
    for i in range(R):
        log, _, xc = draw_log(n, rng)
        pols = {k: p[xc] for k, p in CANDIDATES.items()}
        for adjust in simultaneous:
            cmp = compare_policies(log, pols, estimator="dr", reward_model=WRONG_Q[xc], n_bootstrap=B,
                                   random_state=i, adjust=adjust)
            s = cmp.summary.set_index("policy")
            truth = np.array([VALUES[k] for k in s.index])
            simultaneous[adjust] += np.all((s["ci_low"] <= truth) & (truth <= s["ci_high"]))
            if adjust == "none":
                pw = cmp.pairwise.set_index(["policy_a", "policy_b"])
                for j, (a, b) in enumerate(pairs):
                    d = VALUES[a] - VALUES[b]
                    pair_hits[j] += pw.loc[(a, b), "ci_low"] <= d <= pw.loc[(a, b), "ci_high"]
            else:
                chosen_bound_holds += s.loc[cmp.choice, "ci_low"] <= VALUES[cmp.choice]
    return pair_hits / R, {k: v / R for k, v in simultaneous.items()}, chosen_bound_holds / R


def test_compare_policies_intervals_cover_fast():
    # Three candidates (greedy is best), dr with a wrong reward model. R = 200 logs of 800 rows, B = 200:
    # each paired-difference interval covers the true difference in [0.90, 0.99]; the Bonferroni-adjusted
    # intervals cover all three values at once in [0.93, 1.0] (nominal >= 0.95), and the pessimistic choice's
    # adjusted lower bound is below its true value in >= 0.95 of logs (nominal >= 0.975 one-sided).
    pair_cov, simultaneous, chosen = _compare_run(R=200, n=800, B=200, seed=50)
    assert np.all((pair_cov >= FAST[0]) & (pair_cov <= FAST[1])), pair_cov
    assert simultaneous["bonferroni"] >= 0.93, simultaneous
    assert chosen >= 0.95, chosen


@pytest.mark.slow
def test_compare_policies_intervals_cover_thorough():
    # R = 1000 logs of 1000 rows, B = 400: paired differences within [0.93, 0.97]; Bonferroni all-at-once
    # coverage >= 0.94; the chosen policy's lower bound holds in >= 0.96.
    pair_cov, simultaneous, chosen = _compare_run(R=1000, n=1000, B=400, seed=51)
    assert np.all((pair_cov >= SLOW[0]) & (pair_cov <= SLOW[1])), pair_cov
    assert simultaneous["bonferroni"] >= 0.94, simultaneous
    assert chosen >= 0.96, chosen
