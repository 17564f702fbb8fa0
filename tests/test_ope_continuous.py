"""Continuous-action OPE: kernels, the pricing simulator's truth, kernel IPS/SNIPS/DR, intervals, bandwidth.

Statistical tests state their band and replicate count; each is seeded, so it is deterministic.
"""
import numpy as np
import pytest
from scipy import integrate

from workbench import ValidationError
from workbench._kernels import KERNELS, kernel_cdf, kernel_pdf, smoothed_density, smoothed_quadrature
from workbench.data import ContinuousBanditLog, simulate_pricing
from workbench.ope.continuous import (ContinuousRewardModel, bandwidth_monte_carlo, bandwidth_sweep,
                                      evaluate_continuous_policy, kernel_estimate, smoothed_policy_weights)


def _edge_target(log, truth):
    # Optimal price shifted up by 2, clipped: many rows sit exactly at a_max (tests the boundary).
    return np.clip(truth.optimal_action() + 2.0, log.a_min, log.a_max)


# -- kernels ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernels_are_densities_with_matching_cdfs(kernel):
    assert integrate.quad(lambda u: kernel_pdf(u, kernel), -10, 10, points=[-1, 0, 1])[0] == pytest.approx(1, abs=1e-8)
    for u in (-0.7, 0.0, 0.4, 1.3):
        num = integrate.quad(lambda s: kernel_pdf(s, kernel), -10, u, points=[-1, 0] if u > 0 else None)[0]
        assert kernel_cdf(u, kernel) == pytest.approx(num, abs=1e-7)


@pytest.mark.parametrize("kernel", KERNELS)
def test_renormalised_smoothed_policy_integrates_to_one_near_edges(kernel):
    c = np.array([1.0, 1.2, 5.0, 9.9, 10.0])
    _, wts = smoothed_quadrature(c, 0.7, kernel, 1.0, 10.0)
    np.testing.assert_allclose(wts.sum(axis=1), 1.0, atol=1e-10)
    for ci in c:  # independent check with scipy quad
        val = integrate.quad(lambda a: smoothed_density(a, ci, 0.7, kernel, 1.0, 10.0), 1.0, 10.0,
                             points=[ci], limit=200)[0]
        assert val == pytest.approx(1.0, abs=1e-6)


def test_box_kernel_weight_is_the_rucker_formula():
    log, truth = simulate_pricing(500, random_state=3)
    c = _edge_target(log, truth)
    h = 0.8
    w = smoothed_policy_weights(log, c, h, kernel="box")
    inside = np.abs(log.action - c) <= h
    width = np.minimum(c + h, log.a_max) - np.maximum(c - h, log.a_min)
    np.testing.assert_allclose(w, np.where(inside, 1 / width, 0) / log.density, rtol=1e-12)
    assert w.max() <= 1 / (h * log.density.min()) + 1e-12  # the bound pi_h / p <= (1/h) / p_min


# -- the simulator's truth ------------------------------------------------------------------------
@pytest.mark.parametrize("logging", ["gaussian", "capped-igw", "uniform"])
def test_logging_density_is_consistent_with_the_sampler(logging):
    # E_b[1 / (L p_b(a|x))] = ∫ p_b / (L p_b) = 1 when the sampler draws from the stated density.
    # Monte Carlo over one log of 20,000 rows: within 3 standard errors.
    log, truth = simulate_pricing(20_000, logging=logging, random_state=11)
    z = 1 / (log.width * log.density)
    assert abs(z.mean() - 1) <= 3 * z.std(ddof=1) / np.sqrt(len(z)) + 1e-12
    small, small_truth = simulate_pricing(300, logging=logging, random_state=12)  # density integrates to one
    grid = np.broadcast_to(1 + (np.arange(8192) + 0.5) * 9 / 8192, (300, 8192))
    np.testing.assert_allclose(small_truth.logger.density(grid).mean(axis=1) * 9, 1.0, atol=1e-4)


def test_truth_policy_value_matches_rollouts():
    log, truth = simulate_pricing(40_000, random_state=5)
    c = truth.optimal_action()
    for h, kern in ((None, "box"), (0.8, "triangular"), (1.5, "box")):
        v = truth.policy_value(c, bandwidth=h, kernel=kern)
        r = truth.sample_rewards(c, bandwidth=h, kernel=kern, random_state=1)
        assert abs(r.mean() - v) < 3 * r.std(ddof=1) / np.sqrt(len(r))
    assert truth.policy_value(c) > truth.policy_value(c, bandwidth=1.5, kernel="box")  # smoothing costs value


# -- unbiasedness ---------------------------------------------------------------------------------
def test_kernel_ips_and_dr_unbiased_for_smoothed_value_by_monte_carlo():
    # 200 logs of 600 rows; estimator minus V(pi_h) on each log's contexts; mean within 3 MC s.e.
    # Includes rows whose target sits at a_max (renormalised boundary) and a wrong reward model for DR.
    R, n, h = 200, 600, 0.6
    errs = {("ips", "epanechnikov"): [], ("ips", "box"): [], ("dr", "triangular"): [], ("none", "box"): []}
    wrong_q = lambda ctx, a: 0.4 * a  # noqa: E731  (deliberately misspecified)
    seeds = np.random.SeedSequence(2024).spawn(R)
    for s in seeds:
        log, truth = simulate_pricing(n, logging="capped-igw", random_state=np.random.default_rng(s))
        c = _edge_target(log, truth)
        for (est, kern), bucket in errs.items():
            if est == "none":
                T = smoothed_policy_weights(log, c, h, kern, boundary="none") * log.reward
                bucket.append(T.mean() - truth.policy_value(c, bandwidth=h, kernel=kern, boundary="none"))
                continue
            w = smoothed_policy_weights(log, c, h, kern)
            vh = truth.policy_value(c, bandwidth=h, kernel=kern)
            if est == "ips":
                bucket.append(np.mean(w * log.reward) - vh)
            else:
                qm = ContinuousRewardModel(wrong_q).fit(log)
                nodes, wts = smoothed_quadrature(c, h, kern, log.a_min, log.a_max)
                dm = np.sum(wts * qm.predict(nodes), axis=1)
                bucket.append(np.mean(dm + w * (log.reward - qm.predict(log.action))) - vh)
    for key, e in errs.items():
        e = np.asarray(e)
        assert abs(e.mean()) < 3 * e.std(ddof=1) / np.sqrt(R), key


def test_unrenormalised_kernel_is_biased_at_the_edge():
    # Target at the upper edge: without renormalisation roughly half the kernel mass is lost.
    log, truth = simulate_pricing(20_000, logging="uniform", random_state=9)
    c = np.full(len(log), log.a_max)
    v_none = np.mean(smoothed_policy_weights(log, c, 1.0, "epanechnikov", boundary="none") * log.reward)
    t_ren = smoothed_policy_weights(log, c, 1.0, "epanechnikov") * log.reward
    vh = truth.policy_value(c, bandwidth=1.0, kernel="epanechnikov")
    assert v_none < 0.6 * vh  # about half the value is lost at the edge
    assert abs(t_ren.mean() - vh) < 3 * t_ren.std(ddof=1) / np.sqrt(len(t_ren))  # renormalised: no bias


def test_dr_with_a_good_model_and_center_direct_targets_the_deterministic_value():
    # With the exact q as reward model, DR with dr_direct="center" is unbiased for V(pi) at any h.
    log, truth = simulate_pricing(4000, random_state=1)
    c = truth.optimal_action()
    exact_q = lambda ctx, a: truth.problem.expected_reward(ctx, a)  # noqa: E731
    out = evaluate_continuous_policy(log, c, bandwidth=2.0, estimators=["ips", "dr"], reward_model=exact_q,
                                     dr_direct="center", n_bootstrap=300)
    dr = out.set_index("estimator").loc["dr"]
    ips = out.set_index("estimator").loc["ips"]
    v = truth.policy_value(c)
    assert dr["ci_low"] <= v <= dr["ci_high"]
    assert abs(ips["value"] - v) > abs(dr["value"] - v)  # IPS carries the smoothing bias at h = 2


# -- bias-variance trade-off ------------------------------------------------------------------------
def test_bias_grows_and_variance_shrinks_with_bandwidth():
    # 120 logs of 1,000 rows per bandwidth (the same logs for every bandwidth).
    out = bandwidth_monte_carlo(lambda rs: simulate_pricing(1000, random_state=rs),
                                lambda log, t: t.optimal_action(), [0.1, 0.4, 1.6], n_replicates=120,
                                estimators=["ips"], random_state=7)
    sd, bias, mcse = out["sd"].to_numpy(), out["bias"].to_numpy(), out["bias_mc_se"].to_numpy()
    sb = out["smoothing_bias"].to_numpy()
    assert sd[0] > 1.5 * sd[1] > 1.5 * 1.2 * sd[2]  # variance falls with h (sd ~ 1/sqrt(h))
    assert abs(sb[0]) < abs(sb[1]) < abs(sb[2])  # smoothing bias rises with h
    assert abs(bias[2]) > 5 * mcse[2]  # and at h = 1.6 it dominates the Monte Carlo noise
    assert abs(bias[0]) < 3 * mcse[0] + abs(sb[0])  # at h = 0.1 no detectable bias
    np.testing.assert_allclose(bias, sb, atol=float(3 * mcse.max()))  # the bias is the smoothing bias


def test_bandwidth_sweep_columns_and_truth():
    log, truth = simulate_pricing(2000, random_state=0)
    c = truth.optimal_action()
    out = bandwidth_sweep(log, c, [0.2, 1.0, 3.0], truth=truth, n_bootstrap=100)
    assert list(out.columns[:6]) == ["bandwidth", "estimator", "value", "ci_low", "ci_high", "se"]
    assert len(out) == 6 and {"smoothing_bias", "rmse_proxy", "ess"} <= set(out.columns)
    ips = out[out.estimator == "ips"]
    assert ips["smoothing_bias"].is_monotonic_decreasing  # more negative with h (smoothing away from the peak)
    assert ips["se"].iloc[0] > ips["se"].iloc[-1]
    v = truth.policy_value(c, bandwidth=1.0, kernel="epanechnikov")
    assert out.loc[(out.bandwidth == 1.0) & (out.estimator == "ips"), "smoothed_value"].item() == pytest.approx(v)


# -- intervals ------------------------------------------------------------------------------------
def _coverage(R, n, B, seed, logging, shift, interval="percentile"):
    hits = {"ips": 0, "snips": 0}
    for s in np.random.SeedSequence(seed).spawn(R):
        rng = np.random.default_rng(s)
        log, truth = simulate_pricing(n, logging=logging, random_state=rng)
        c = np.clip(truth.optimal_action() + shift, log.a_min, log.a_max)
        vh = truth.policy_value(c, bandwidth=0.8, kernel="epanechnikov")
        out = evaluate_continuous_policy(log, c, bandwidth=0.8, estimators=["ips", "snips"], n_bootstrap=B,
                                         interval=interval, random_state=int(rng.integers(2**31)))
        for _, row in out.iterrows():
            hits[row.estimator] += row.ci_low <= vh <= row.ci_high
    return {k: v / R for k, v in hits.items()}


# Two settings: a CappedIGW logger with the optimal-price target, and a uniform logger with a target
# pushed against the upper edge (renormalised boundary). When the target is far from a narrow
# logger (gaussian logger, shift +2) the weights are heavy and percentile intervals under-cover
# (measured 84% for IPS at n = 1,500): notebook 07 shows that pitfall.
SETTINGS = [("capped-igw", 0.0), ("uniform", 2.0)]


@pytest.mark.parametrize("logging,shift", SETTINGS)
def test_interval_coverage_fast(logging, shift):
    # 95% percentile intervals for V(pi_h), 150 logs of 700 rows, B = 200: coverage in [0.89, 0.99]
    # (binomial sd 1.8 points at 150 replicates; the thorough version below uses a tight band).
    cov = _coverage(150, 700, 200, 1, logging, shift)
    for k, v in cov.items():
        assert 0.89 <= v <= 0.99, (k, v)


@pytest.mark.slow
@pytest.mark.parametrize("logging,shift", SETTINGS)
def test_interval_coverage_thorough(logging, shift):
    # 95% percentile intervals, 1,000 logs of 2,000 rows, B = 400: coverage within [0.93, 0.97].
    cov = _coverage(1000, 2000, 400, 2, logging, shift)
    for k, v in cov.items():
        assert 0.93 <= v <= 0.97, (k, v)


def test_seeded_and_shared_resamples():
    log, truth = simulate_pricing(1500, random_state=2)
    c = truth.optimal_action()
    a = evaluate_continuous_policy(log, c, bandwidth=0.5, n_bootstrap=150, random_state=4, interval="bca")
    b = evaluate_continuous_policy(log, c, bandwidth=0.5, n_bootstrap=150, random_state=4, interval="bca")
    assert a.equals(b)
    w = smoothed_policy_weights(log, c, 0.5)
    assert a.set_index("estimator").loc["ips", "value"] == pytest.approx(np.mean(w * log.reward), rel=1e-12)
    assert a.set_index("estimator").loc["snips", "value"] == pytest.approx(np.sum(w * log.reward) / w.sum(), rel=1e-12)
    e = kernel_estimate(log, c, bandwidth=0.5, estimator="snips", n_bootstrap=150, random_state=4, interval="bca")
    assert e.value == pytest.approx(a.set_index("estimator").loc["snips", "value"])
    assert e.ci_low == pytest.approx(a.set_index("estimator").loc["snips", "ci_low"])


def test_cross_fitted_regressor_for_dr():
    # Extra trees, not histogram gradient boosting: no OpenMP threads (which crawl on a loaded CI box).
    from sklearn.ensemble import ExtraTreesRegressor

    log, truth = simulate_pricing(1500, random_state=6)
    c = truth.optimal_action()
    out = evaluate_continuous_policy(log, c, bandwidth=0.5, estimators=["dm", "dr"], n_bootstrap=200,
                                     reward_model=ExtraTreesRegressor(n_estimators=30, min_samples_leaf=20, random_state=0),
                                     n_folds=2)
    vh = truth.policy_value(c, bandwidth=0.5, kernel="epanechnikov")
    dr = out.set_index("estimator").loc["dr"]
    assert abs(dr["value"] - vh) < 4 * dr["se"]


# -- validation -----------------------------------------------------------------------------------
def test_log_validation_errors():
    ok = dict(action=[1.0, 2.0], reward=[0.0, 1.0], density=[0.5, 0.5], a_min=0.0, a_max=3.0)
    with pytest.raises(ValidationError, match="density.*> 0"):
        ContinuousBanditLog(**{**ok, "density": [0.5, 0.0]})
    with pytest.raises(ValidationError, match="density.*finite"):
        ContinuousBanditLog(**{**ok, "density": [np.inf, 0.5]})
    with pytest.raises(ValidationError, match="action.*within"):
        ContinuousBanditLog(**{**ok, "action": [1.0, 3.5]})
    with pytest.raises(ValidationError, match="a_max"):
        ContinuousBanditLog(**{**ok, "a_min": 3.0, "a_max": 3.0})
    with pytest.raises(ValidationError, match="reward.*finite"):
        ContinuousBanditLog(**{**ok, "reward": [np.nan, 1.0]})
    with pytest.raises(ValidationError, match="density.*one row per"):
        ContinuousBanditLog(**{**ok, "density": [0.5]})


def test_estimator_validation_errors():
    log, truth = simulate_pricing(200, random_state=0)
    c = truth.optimal_action()
    with pytest.raises(ValidationError, match="bandwidth"):
        evaluate_continuous_policy(log, c, bandwidth=0.0)
    with pytest.raises(ValidationError, match="kernel"):
        evaluate_continuous_policy(log, c, bandwidth=1.0, kernel="parabolic")
    with pytest.raises(ValidationError, match="target_action.*within"):
        evaluate_continuous_policy(log, c + 100, bandwidth=1.0)
    with pytest.raises(ValidationError, match="target_action.*one action per row"):
        evaluate_continuous_policy(log, c[:10], bandwidth=1.0)
    with pytest.raises(ValidationError, match="reward_model"):
        evaluate_continuous_policy(log, c, bandwidth=1.0, estimators=["dr"])
    with pytest.raises(ValidationError, match="n_folds"):
        evaluate_continuous_policy(log, c, bandwidth=1.0, estimators=["dr"], reward_model=lambda x, a: a, n_folds=1)
    with pytest.raises(ValidationError, match="log"):
        evaluate_continuous_policy({"action": c}, c, bandwidth=1.0)
    with pytest.raises(ValidationError, match="boundary"):
        smoothed_policy_weights(log, c, 1.0, boundary="reflect")


# -- clusters, seeds, degenerate logs and defaults ------------------------------------------------
def _doubled(log, c):
    # Every row twice, the two copies forming one unit: a clustered log with nothing new in it.
    idx = np.repeat(np.arange(len(log)), 2)
    dup = ContinuousBanditLog(action=log.action[idx], reward=log.reward[idx], density=log.density[idx],
                              a_min=log.a_min, a_max=log.a_max, context=log.context[idx], unit_id=idx)
    return dup, c[idx]


@pytest.mark.parametrize("interval", ["percentile", "bca"])
@pytest.mark.parametrize("resampling", ["poisson", "multinomial"])
def test_unit_ids_are_resampled_by_both_schemes(resampling, interval):
    # Resampling the units of the doubled log is resampling the rows of the original: same draws,
    # same intervals. The multinomial scheme used to draw rows and ignore unit_id (too narrow by ~1/sqrt 2).
    log, truth = simulate_pricing(300, random_state=0)
    c = truth.optimal_action()
    dup, cd = _doubled(log, c)
    cols = ["value", "ci_low", "ci_high", "se"]
    a = evaluate_continuous_policy(log, c, bandwidth=0.5, n_bootstrap=200, resampling=resampling, interval=interval)
    b = evaluate_continuous_policy(dup, cd, bandwidth=0.5, n_bootstrap=200, resampling=resampling, interval=interval)
    np.testing.assert_allclose(b[cols].to_numpy(), a[cols].to_numpy(), rtol=1e-10)


def test_bandwidth_sweep_shares_one_seed_for_a_generator():
    log, truth = simulate_pricing(400, random_state=0)
    c = truth.optimal_action()
    out = bandwidth_sweep(log, c, [0.5, 0.5], n_bootstrap=50, random_state=np.random.default_rng(1))
    first, second = out.iloc[:2], out.iloc[2:]
    np.testing.assert_array_equal(first[["ci_low", "ci_high", "se"]].to_numpy(),
                                  second[["ci_low", "ci_high", "se"]].to_numpy())
    again = bandwidth_sweep(log, c, [0.5, 0.5], n_bootstrap=50, random_state=np.random.default_rng(1))
    assert out.equals(again)


def test_single_row_or_unit_gives_nan_intervals():
    from workbench.ope.evaluate import OPEDiagnosticWarning

    log, truth = simulate_pricing(50, logging="uniform", random_state=0)
    c = np.full(50, 5.0)
    with pytest.warns(OPEDiagnosticWarning, match="single row"):
        out = evaluate_continuous_policy(log[[0]], c[:1], bandwidth=9.0, kernel="box", n_bootstrap=20)
    assert out[["ci_low", "ci_high", "se"]].isna().all().all() and np.isfinite(out["value"]).all()
    one_unit = ContinuousBanditLog(action=log.action, reward=log.reward, density=log.density, a_min=1, a_max=10,
                                   unit_id=np.zeros(50, int))
    with pytest.warns(OPEDiagnosticWarning, match="single unit"):
        out = evaluate_continuous_policy(one_unit, c, bandwidth=1.0, n_bootstrap=20, resampling="multinomial")
    assert out[["ci_low", "ci_high", "se"]].isna().all().all()


def test_empty_log_is_refused():
    with pytest.raises(ValidationError, match="^action: .*empty"):
        ContinuousBanditLog(action=[], reward=[], density=[], a_min=0, a_max=1)


def test_truth_kernel_default_is_the_estimators_default():
    # truth.policy_value(c, bandwidth=h) must be the V(pi_h) that evaluate_continuous_policy(..., bandwidth=h)
    # estimates; it used to default to the box kernel.
    import inspect

    log, truth = simulate_pricing(300, random_state=0)
    c = truth.optimal_action()
    default = inspect.signature(evaluate_continuous_policy).parameters["kernel"].default
    assert truth.policy_value(c, bandwidth=1.0) == truth.policy_value(c, bandwidth=1.0, kernel=default)
    assert truth.policy_value(c, bandwidth=1.0) != truth.policy_value(c, bandwidth=1.0, kernel="box")
    np.testing.assert_array_equal(truth.sample_rewards(c, bandwidth=1.0, random_state=0),
                                  truth.sample_rewards(c, bandwidth=1.0, kernel=default, random_state=0))


def _mc_args():
    sim = lambda rs: simulate_pricing(100, random_state=rs)  # noqa: E731
    return sim, lambda lg, t: t.optimal_action()


def test_n_folds_and_n_replicates_are_not_truncated():
    for n_folds in (2.5, "x", True):
        with pytest.raises(ValidationError, match="^n_folds:"):
            ContinuousRewardModel(lambda x, a: a, n_folds=n_folds)
    with pytest.raises(ValidationError, match="^n_replicates:"):
        bandwidth_monte_carlo(*_mc_args(), [0.5], n_replicates=2.5)


def test_bandwidth_must_be_a_number():
    # float(True) is 1.0 and float("0.5") 0.5: neither is a bandwidth.
    log, truth = simulate_pricing(100, random_state=0)
    c = truth.optimal_action()
    for bw in (True, "0.5", np.nan):
        with pytest.raises(ValidationError, match="^bandwidth:"):
            smoothed_policy_weights(log, c, bw)
        with pytest.raises(ValidationError, match="^bandwidth:"):
            evaluate_continuous_policy(log, c, bandwidth=bw)
        with pytest.raises(ValidationError, match="^bandwidth:"):
            truth.policy_value(c, bandwidth=bw)
    with pytest.raises(ValidationError, match="^bandwidths:"):
        bandwidth_sweep(log, c, [True])


def test_monte_carlo_names_the_estimators_it_supports():
    # No reward model in a Monte Carlo run: the message names the estimators, not a missing parameter.
    with pytest.raises(ValidationError, match=r"^estimators: must be one of \['ips', 'snips'\]"):
        bandwidth_monte_carlo(*_mc_args(), [0.5], n_replicates=2, estimators=["dr"])


# -- audit: the other interval methods, and DR's interval ------------------------------------------
def _coverage_all(R, n, B, seed, interval):
    # Uniform logger, target pushed against the upper edge; DR with a fixed, wrong model (unbiased for
    # V(pi_h) with dr_direct="smoothed" whatever the model).
    wrong_q = lambda ctx, a: 0.4 * a  # noqa: E731
    hits = {"ips": 0, "snips": 0, "dr": 0}
    for s in np.random.SeedSequence(seed).spawn(R):
        rng = np.random.default_rng(s)
        log, truth = simulate_pricing(n, logging="uniform", random_state=rng)
        c = np.clip(truth.optimal_action() + 2.0, log.a_min, log.a_max)
        vh = truth.policy_value(c, bandwidth=0.8, kernel="epanechnikov")
        out = evaluate_continuous_policy(log, c, bandwidth=0.8, estimators=list(hits), reward_model=wrong_q,
                                         n_bootstrap=B, interval=interval, random_state=int(rng.integers(2**31)))
        for _, row in out.iterrows():
            hits[row.estimator] += row.ci_low <= vh <= row.ci_high
    return {k: v / R for k, v in hits.items()}


@pytest.mark.parametrize("interval", ["normal", "bca", "basic"])
def test_other_interval_methods_and_dr_cover_fast(interval):
    # 95% intervals for V(pi_h) by ips, snips and dr: 150 logs of 700 rows, B = 200; coverage in [0.89, 0.99].
    cov = _coverage_all(150, 700, 200, 3, interval)
    for k, v in cov.items():
        assert 0.89 <= v <= 0.99, (interval, k, v)


@pytest.mark.slow
@pytest.mark.parametrize("interval", ["percentile", "normal", "bca", "basic"])
def test_other_interval_methods_and_dr_cover_thorough(interval):
    # 1,000 logs of 2,000 rows, B = 400: coverage within [0.93, 0.97]; "basic" within [0.92, 0.97]: reflecting
    # the replicate quantiles about the estimate doubles down on the skew of the importance weights (measured
    # 0.928 for ips, against 0.93-0.96 for the other methods).
    cov = _coverage_all(1000, 2000, 400, 4, interval)
    lo = 0.92 if interval == "basic" else 0.93
    for k, v in cov.items():
        assert lo <= v <= 0.97, (interval, k, v)


def test_continuous_evaluation_warns_on_thin_or_biased_weights():
    import warnings

    import workbench as wb

    lg, tr = wb.data.simulate_pricing(5000, logging="gaussian", logging_sd=0.1, random_state=1)
    target = np.clip(tr.optimal_action() + 0.8, tr.a_min, tr.a_max)  # far from a nearly deterministic logger
    with pytest.warns(wb.ope.OPEDiagnosticWarning, match="mean kernel weight is .*effective sample size of the kernel"):
        wb.ope.evaluate_continuous_policy(lg, target, bandwidth=0.5, n_bootstrap=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wb.ope.evaluate_continuous_policy(lg, target, bandwidth=0.5, n_bootstrap=50, warn=False)
        wb.ope.bandwidth_sweep(lg, target, [0.5, 1.0], n_bootstrap=50)  # its table has the ess column instead
        good, good_truth = wb.data.simulate_pricing(5000, random_state=1)  # a wide logger: nothing to say
        wb.ope.evaluate_continuous_policy(good, good_truth.optimal_action(), bandwidth=0.5, n_bootstrap=50)
