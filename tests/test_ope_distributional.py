"""Distributional OPE: the off-policy reward CDF, its bands and the functionals read from it."""
import numpy as np
import pytest
from scipy.special import ndtr, softmax

from workbench import ValidationError
from workbench._engine import ReplicateAccumulator, Resampling
from workbench.data import BanditLog, simulate_bandit, simulate_pricing
from workbench.ope.distributional import importance_weights, off_policy_cdf, off_policy_cdf_from_weights


def _setting(n, seed):
    log, truth = simulate_bandit(n, n_actions=4, dim_context=2, reward_type="continuous", behavior="softmax",
                                 beta=0.5, noise_sd=0.8, random_state=seed)
    target = softmax(1.0 * truth.expected_reward, axis=1)  # a gentle shift towards better actions
    return log, truth, target


def _true_cdf(truth, target, t):
    q = truth.expected_reward
    return np.array([np.mean(np.sum(target * ndtr((ti - q) / truth.noise_sd), axis=1)) for ti in np.atleast_1d(t)])


def test_cdf_is_monotone_and_within_unit_interval_for_any_weights():
    rng = np.random.default_rng(0)
    for sn in (True, False):
        for _ in range(5):
            n = 300
            r = rng.choice([0.0, 1.0, 2.5, 3.0], n) + rng.normal(0, 0.1, n) * rng.integers(0, 2, n)
            w = rng.exponential(2.0, n) * rng.integers(0, 2, n)  # mean weight far from 1, many zeros
            res = off_policy_cdf_from_weights(r, w, self_normalize=sn, n_bootstrap=50, band="uniform",
                                              random_state=int(rng.integers(1000)))
            for arr in (res.cdf, res.ci_low, res.ci_high):
                assert np.all(np.diff(arr) >= 0) and arr.min() >= 0 and arr.max() <= 1
            assert np.all(np.diff(res.replicate_cdfs, axis=1) >= 0)
            assert np.all(res.ci_low <= res.cdf + 1e-12) and np.all(res.cdf <= res.ci_high + 1e-12)


def test_on_policy_weights_give_the_empirical_distribution():
    # Target = logger: every weight is 1, so the CDF, quantiles and CVaR are the plain empirical ones.
    log, truth, _ = _setting(2000, 1)
    res = off_policy_cdf(log, log.behavior_dist, n_bootstrap=50)
    r = np.sort(log.reward)
    np.testing.assert_allclose(res.evaluate(r), np.arange(1, len(r) + 1) / len(r))
    for q in (0.05, 0.5, 0.9):
        assert res.quantile(q).value == pytest.approx(np.quantile(log.reward, q, method="inverted_cdf"))
    assert res.cvar(0.1).value == pytest.approx(r[:200].mean())
    assert res.cvar(0.1, tail="upper").value == pytest.approx(r[-200:].mean())
    assert res.mean().value == pytest.approx(r.mean())
    assert res.variance().value == pytest.approx(r.var())


def test_is_cdf_unbiased_and_sn_cdf_close_by_monte_carlo():
    # 150 logs of 1,000 rows: the raw IS CDF at 5 thresholds averages to the true CDF within 3 MC s.e.;
    # the SN CDF within 3 MC s.e. plus 0.01 (its O(1/n) bias).
    ts = np.array([-1.5, -0.5, 0.0, 0.5, 1.5])
    raw, sn = [], []
    for s in np.random.SeedSequence(5).spawn(150):
        log, truth, target = _setting(1000, np.random.default_rng(s))
        true = _true_cdf(truth, target, ts)
        w = importance_weights(log, target)
        raw.append([np.mean(w * (log.reward <= t)) for t in ts] - true)
        res = off_policy_cdf(log, target, thresholds=ts, n_bootstrap=2)
        sn.append(res.cdf - true)
    for err, slack in ((np.array(raw), 0.0), (np.array(sn), 0.01)):
        mcse = err.std(axis=0, ddof=1) / np.sqrt(len(err))
        assert np.all(np.abs(err.mean(axis=0)) < 3 * mcse + slack), (err.mean(axis=0), mcse)


def test_cdf_within_monte_carlo_error_of_the_truth_on_one_log():
    log, truth, target = _setting(20_000, 2)
    res = off_policy_cdf(log, target, n_bootstrap=300, band="uniform", max_thresholds=64)
    true = _true_cdf(truth, target, res.thresholds)
    se = res.replicate_cdfs.std(axis=0, ddof=1)
    inner = (true > 0.02) & (true < 0.98)
    assert np.all(np.abs(res.cdf - true)[inner] < 4 * se[inner])
    # The uniform band covers the curve (below the largest observed reward, where the SN CDF is 1 by
    # construction and its band has zero width).
    below = res.thresholds < log.reward.max()
    assert np.all(((res.ci_low <= true + 1e-9) & (true <= res.ci_high + 1e-9))[below])


def test_cvar_and_quantile_against_on_policy_rollouts():
    # Off-policy estimate (20,000 logged rows) vs the same functionals of 200,000 on-policy rewards
    # (10 rollouts on the log's contexts): within 4 combined standard errors.
    log, truth, target = _setting(20_000, 3)
    res = off_policy_cdf(log, target, n_bootstrap=300)
    on = np.concatenate([truth.sample_rewards(target, random_state=k) for k in range(10)])
    on_sorted = np.sort(on)
    checks = {
        "q10": (res.quantile(0.1), np.quantile(on, 0.1, method="inverted_cdf")),
        "q50": (res.quantile(0.5), np.quantile(on, 0.5, method="inverted_cdf")),
        "cvar10": (res.cvar(0.1), on_sorted[: len(on) // 10].mean()),
        "mean": (res.mean(), on.mean()),
    }
    for name, (est, ref) in checks.items():
        assert abs(est.value - ref) < 4 * np.hypot(est.se, on.std() / np.sqrt(len(on))), (name, est, ref)
        assert est.ci_low <= est.value <= est.ci_high


def _band_coverage(R, n, B, seed):
    t0 = 0.0
    hits = 0
    cvar_hits = 0
    for s in np.random.SeedSequence(seed).spawn(R):
        rng = np.random.default_rng(s)
        log, truth, target = _setting(n, rng)
        res = off_policy_cdf(log, target, thresholds=[t0], n_bootstrap=B, random_state=int(rng.integers(2**31)))
        true = _true_cdf(truth, target, t0)[0]
        hits += res.ci_low[0] <= true <= res.ci_high[0]
    return hits / R


def test_pointwise_band_coverage_fast():
    # 95% pointwise band at t = 0: 200 logs of 800 rows, B = 200; coverage in [0.90, 0.99].
    cov = _band_coverage(200, 800, 200, 11)
    assert 0.90 <= cov <= 0.99, cov


@pytest.mark.slow
def test_pointwise_band_coverage_thorough():
    # 95% pointwise band at t = 0: 1,000 logs of 2,000 rows, B = 400; coverage within [0.93, 0.97].
    cov = _band_coverage(1000, 2000, 400, 12)
    assert 0.93 <= cov <= 0.97, cov


def test_replicates_use_the_engine_resampling():
    # The CDF replicate at one threshold equals the engine's ratio of replicate means of (w 1{r<=t}, w).
    log, truth, target = _setting(3000, 4)
    w = importance_weights(log, target)
    t = 0.3
    for scheme in ("poisson", "multinomial"):
        res = off_policy_cdf(log, target, thresholds=[t], n_bootstrap=64, resampling=scheme, random_state=9)
        acc = ReplicateAccumulator(2, Resampling.make(64, scheme, 9)).add(np.column_stack([w * (log.reward <= t), w]))
        m = acc.replicate_means
        np.testing.assert_allclose(res.replicate_cdfs[:, 0], np.clip(m[:, 0] / m[:, 1], 0, 1), rtol=1e-10)


def test_slots_and_continuous_logs():
    rng = np.random.default_rng(0)
    n, k, P = 600, 3, 2
    beh = np.full((n, k, P), 1 / k)
    pos = rng.integers(0, P, n)
    a = rng.integers(0, k, n)
    log = BanditLog(action=a, reward=rng.random(n), propensity=np.full(n, 1 / k), n_actions=k, position=pos,
                    behavior_dist=beh)
    tgt = np.zeros((n, k, P))
    tgt[:, 0, 0], tgt[:, 1, 0] = 0.5, 0.5
    tgt[:, 2, 1] = 1.0
    w = importance_weights(log, tgt)
    expected = np.where(pos == 0, np.where(a < 2, 0.5 * k, 0.0), np.where(a == 2, k, 0.0))
    np.testing.assert_allclose(w, expected)
    assert off_policy_cdf(log, tgt, n_bootstrap=20).cdf[-1] == pytest.approx(1.0)
    clog, ctruth = simulate_pricing(2000, random_state=0)
    res = off_policy_cdf(clog, ctruth.optimal_action(), bandwidth=0.5, kernel="box", n_bootstrap=50)
    assert np.all(np.diff(res.cdf) >= 0)


def test_validation_errors():
    log, truth, target = _setting(200, 0)
    with pytest.raises(ValidationError, match="policy"):
        off_policy_cdf(log, target[:, :3], n_bootstrap=10)
    with pytest.raises(ValidationError, match="sum to 1"):
        off_policy_cdf(log, target * 0.5, n_bootstrap=10)
    with pytest.raises(ValidationError, match="weights.*>= 0"):
        off_policy_cdf_from_weights(log.reward, -np.ones(len(log)), n_bootstrap=10)
    with pytest.raises(ValidationError, match="all zero"):
        off_policy_cdf_from_weights(log.reward, np.zeros(len(log)), n_bootstrap=10)
    with pytest.raises(ValidationError, match="thresholds"):
        off_policy_cdf(log, target, thresholds=[0.0, np.nan], n_bootstrap=10)
    with pytest.raises(ValidationError, match="band"):
        off_policy_cdf(log, target, band="simultaneous", n_bootstrap=10)
    res = off_policy_cdf(log, target, n_bootstrap=10)
    with pytest.raises(ValidationError, match="q"):
        res.quantile(1.0)
    with pytest.raises(ValidationError, match="level"):
        res.cvar(0.0)
    with pytest.raises(ValidationError, match="bandwidth"):
        clog, ct = simulate_pricing(50, random_state=0)
        off_policy_cdf(clog, ct.optimal_action())


def test_routing_simulator_truth_and_quality_distribution():
    # The routing simulator's expected quality and cost match the logged means (3 s.e., 30,000 prompts);
    # the router's quality CDF from the log matches a rollout of the truth's Beta scores.
    from workbench.data import simulate_routing

    log, truth = simulate_routing(30_000, random_state=4)
    rows = np.arange(len(log))
    for obs, exp in ((log.quality, truth.expected_quality), (log.cost, truth.expected_cost)):
        d = obs - exp[rows, log.action]
        assert abs(d.mean()) < 3 * d.std(ddof=1) / np.sqrt(len(d))
    assert truth.value(log.behavior_dist, 0.3) == pytest.approx(
        truth.quality(log.behavior_dist) - 0.3 * truth.cost(log.behavior_dist))
    blog = log.bandit_log(0.3)
    np.testing.assert_allclose(blog.reward, log.quality - 0.3 * log.cost)
    # Off-policy mean quality of "always mid-70b" vs its exact expected quality.
    mid = np.zeros_like(log.behavior_dist)
    mid[:, 1] = 1.0
    res = off_policy_cdf(log.bandit_log(reward="quality"), mid, n_bootstrap=200)
    est = res.mean()
    assert abs(est.value - truth.quality(mid)) < 4 * est.se
    with pytest.raises(ValidationError, match="lam"):
        log.bandit_log(-1.0)


@pytest.mark.parametrize("resampling", ["poisson", "multinomial"])
def test_unit_ids_are_resampled_by_both_schemes(resampling):
    # Every row twice, the copies forming one unit: resampling units of the doubled data is resampling
    # rows of the original (same draws). The multinomial scheme used to ignore unit_id.
    rng = np.random.default_rng(0)
    r, w = rng.normal(size=200), rng.exponential(size=200)
    idx = np.repeat(np.arange(200), 2)
    a = off_policy_cdf_from_weights(r, w, n_bootstrap=100, resampling=resampling, random_state=3)
    b = off_policy_cdf_from_weights(r[idx], w[idx], unit_id=idx, n_bootstrap=100, resampling=resampling,
                                    random_state=3)
    np.testing.assert_allclose(b.replicate_cdfs, a.replicate_cdfs, atol=1e-12)
    assert b.mean().se == pytest.approx(a.mean().se, rel=1e-10)
    # Ids are matched by value, not by position: shuffling the rows does not change the draws.
    perm = rng.permutation(400)
    c = off_policy_cdf_from_weights(r[idx][perm], w[idx][perm], unit_id=idx[perm], n_bootstrap=100,
                                    resampling=resampling, random_state=3)
    np.testing.assert_allclose(c.replicate_cdfs, b.replicate_cdfs, atol=1e-12)


def test_unit_ids_are_validated_as_in_the_log():
    # [None] * n used to be one cluster, and [1, "1"] one unit (numpy made both the string "1").
    r, w = np.arange(10.0), np.ones(10)
    for bad in ([None] * 10, [1, "1"] + list(range(2, 10)), [0.5] * 10, [True] * 10):
        with pytest.raises(ValidationError, match="^unit_id:"):
            off_policy_cdf_from_weights(r, w, unit_id=bad, n_bootstrap=10)
    ok = off_policy_cdf_from_weights(r, w, unit_id=list(range(10)), n_bootstrap=10)
    assert ok.n == 10


def test_max_thresholds_and_self_normalize_are_not_coerced():
    r, w = np.arange(10.0), np.ones(10)
    for m in (2.5, 0, -3):
        with pytest.raises(ValidationError, match="^max_thresholds:"):
            off_policy_cdf_from_weights(r, w, max_thresholds=m, n_bootstrap=10)
    with pytest.raises(ValidationError, match="^self_normalize:"):
        off_policy_cdf_from_weights(r, w, self_normalize="no", n_bootstrap=10)


def test_evaluate_refuses_nan_and_gives_the_limits_at_infinity():
    res = off_policy_cdf_from_weights(np.arange(10.0), np.ones(10), n_bootstrap=10)
    with pytest.raises(ValidationError, match=r"^t: must not be NaN.*first at row 1"):
        res.evaluate([0.0, np.nan])
    # The CDF's limits: 0 at -inf, the CDF at the largest reward (here 1, self-normalised) at +inf.
    np.testing.assert_array_equal(res.evaluate([-np.inf, 4.5, np.inf]), [0.0, 0.5, 1.0])


def test_a_single_unit_is_refused_like_a_single_row():
    r = np.random.default_rng(0).random(50)
    with pytest.raises(ValidationError, match="distinct units"):
        off_policy_cdf_from_weights(r, np.ones(50), unit_id=np.zeros(50, int), n_bootstrap=50)
