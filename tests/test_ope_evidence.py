"""Evidence that the OPE estimators and intervals are right: Monte Carlo against an exact truth.

The environment has 5 discrete context types, so the policy value is exact:
V(pi) = sum_x p(x) sum_a pi(a | x) q(x, a). Every replicate draws a fresh log from it.

Bands (stated here, checked below):
* unbiasedness: mean over R replicates within 3 Monte Carlo standard errors of V;
* 95% percentile bootstrap coverage: fast tier R = 200 logs, band [0.90, 0.99]
  (+-3 binomial s.e. around 0.95 is [0.904, 0.996]); slow tier R = 2000 logs, band [0.93, 0.97].
"""
import numpy as np
import pytest

import workbench as wb
from workbench.ope import DoublyRobust, InverseProbabilityWeighting, SelfNormalizedIPS, evaluate_policy

from _discrete_env import P_X, PI_B, PI_E, Q  # tests/ is on sys.path (pytest prepends it)
TRUTH = float(P_X @ (PI_E * Q).sum(axis=1))


def draw_log(n, rng):
    xc = rng.choice(5, size=n, p=P_X)
    pb = PI_B[xc]
    a = (rng.random(n)[:, None] > np.cumsum(pb, axis=1)).sum(axis=1).clip(max=3)
    r = (rng.random(n) < Q[xc, a]).astype(float)
    log = wb.data.BanditLog(action=a, reward=r, propensity=pb[np.arange(n), a], n_actions=4,
                            context=np.eye(5)[xc], behavior_dist=pb)
    return log, PI_E[xc], xc


WRONG_Q = np.clip(Q + np.array([0.15, -0.1, 0.05, 0.2]), 0, 1)  # a deliberately misspecified reward model


def test_ips_and_dr_are_unbiased_by_monte_carlo():
    # R = 2000 logs of 200 rows; DR uses a fixed, wrong reward model (DR stays unbiased for any fixed q).
    rng = np.random.default_rng(0)
    R, n = 2000, 200
    ips, dr, dm = np.empty(R), np.empty(R), np.empty(R)
    for i in range(R):
        log, pe, xc = draw_log(n, rng)
        q = WRONG_Q[xc]
        ips[i] = InverseProbabilityWeighting().estimate_policy_value(log, pe)
        dr[i] = DoublyRobust().estimate_policy_value(log, pe, q)
        dm[i] = wb.ope.DirectMethod().estimate_policy_value(log, pe, q)
    for vals in (ips, dr):
        se = vals.std(ddof=1) / np.sqrt(R)
        assert abs(vals.mean() - TRUTH) < 3 * se, (vals.mean(), TRUTH, se)
    # ... and the test can fail: DM with the wrong model is far outside the band
    assert abs(dm.mean() - TRUTH) > 10 * dm.std(ddof=1) / np.sqrt(R)


def test_cross_fitted_dr_is_unbiased():
    # Cross-fitting makes q-hat of row i independent of (a_i, r_i), so DR stays exactly unbiased
    # (R = 200 logs of 300 rows, ridge reward model on context x action cells).
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(1)
    R, n = 200, 300
    vals = np.empty(R)
    for i in range(R):
        log, pe, _ = draw_log(n, rng)
        vals[i] = DoublyRobust().estimate_policy_value(log, pe, Ridge(alpha=1.0))
    se = vals.std(ddof=1) / np.sqrt(R)
    assert abs(vals.mean() - TRUTH) < 3 * se


def test_snips_and_dr_are_consistent():
    # The error shrinks like 1/sqrt(n): RMSE over 20 logs at n = 200 vs n = 20,000 (expected ratio 10).
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(2)

    def rmse(n, est, model=None):
        errs = []
        for _ in range(20):
            log, pe, _ = draw_log(n, rng)
            errs.append(est.estimate_policy_value(log, pe, model) - TRUTH)
        return np.sqrt(np.mean(np.square(errs)))

    assert rmse(200, SelfNormalizedIPS()) > 4 * rmse(20_000, SelfNormalizedIPS())
    model = Ridge(alpha=1e-3)
    big = rmse(20_000, DoublyRobust(), model)
    assert rmse(200, DoublyRobust(), model) > 4 * big and big < 0.01


def _coverage(R, n, n_bootstrap, seed, interval="percentile"):
    rng = np.random.default_rng(seed)
    hits = np.zeros((R, 2), dtype=bool)
    for i in range(R):
        log, pe, xc = draw_log(n, rng)
        out = evaluate_policy(log, pe, estimators=["ips", "dr"], reward_model=WRONG_Q[xc], n_bootstrap=n_bootstrap,
                              interval=interval, random_state=i, warn=False)
        hits[i] = (out["ci_low"] <= TRUTH) & (TRUTH <= out["ci_high"])
    return hits.mean(axis=0)


def test_bootstrap_coverage_fast():
    cov = _coverage(R=200, n=1000, n_bootstrap=1000, seed=3)
    assert ((cov >= 0.90) & (cov <= 0.99)).all(), cov


@pytest.mark.slow
@pytest.mark.parametrize("interval", ["percentile", "bca"])
def test_bootstrap_coverage_thorough(interval):
    cov = _coverage(R=2000, n=1000, n_bootstrap=1000, seed=4, interval=interval)
    assert ((cov >= 0.93) & (cov <= 0.97)).all(), cov


@pytest.mark.slow
def test_bernstein_coverage_is_at_least_nominal():
    # finite-sample bound: coverage >= 95% at every n (here n = 300, R = 500).
    rng = np.random.default_rng(5)
    hits = []
    for i in range(500):
        log, pe, _ = draw_log(300, rng)
        out = evaluate_policy(log, pe, estimators=["ips"], interval="bernstein", n_bootstrap=20, random_state=i,
                              warn=False)
        hits.append(out["ci_low"].iloc[0] <= TRUTH <= out["ci_high"].iloc[0])
    assert np.mean(hits) >= 0.95


# ------------------------------------------------------------------------------------------------
# The Open Bandit sample: BTS evaluated from the uniform-random logs
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def obd():
    log = wb.data.load_open_bandit("random", campaign="all")
    dist = wb.data.open_bandit_bts_policy("all", n_sim=100_000, random_state=0)
    return log, np.broadcast_to(dist, (len(log),) + dist.shape)


def test_open_bandit_ips_of_bts_over_mean_click_is_1_20(obd):
    # obp's README reports 1.198 (Monte Carlo BTS distribution, n_sim = 1e5); ours uses its own draws.
    log, pe = obd
    ips = InverseProbabilityWeighting().estimate_policy_value(log, pe)
    assert 1.17 < ips / log.reward.mean() < 1.23


def test_open_bandit_intervals_cover_the_on_policy_click_rate(obd):
    log, pe = obd
    on_policy = wb.data.load_open_bandit("bts", campaign="all").reward.mean()
    assert np.isclose(on_policy, 0.0042, atol=1e-6)
    from sklearn.linear_model import LogisticRegression

    out = evaluate_policy(log, pe, estimators=["ips", "snips", "dr", "sndr"],
                          reward_model=LogisticRegression(max_iter=1000), n_bootstrap=1000, random_state=0, warn=False)
    assert ((out["ci_low"] <= on_policy) & (on_policy <= out["ci_high"])).all(), out
