"""Few informative rows with continuous actions: the kernel-weighted terms are non-zero on a handful of rows.

A deterministic pricing target whose kernel meets ~116 logged rows has kernel weights whose effective
sample size (~100) passes the ESS alarm (max(30, 1% of rows) = 50), yet when only ~2 of those rows are
purchases its IPS / SNIPS estimate is a sum of about 2 non-zero terms: far from normal, and the 95%
bootstrap interval under-covers V(pi_h). ``ess_terms`` (:func:`workbench.ope.evaluate.informative_terms`
of the kernel weights and the rewards) counts those rows, and the continuous diagnostics warn below 10,
as :func:`workbench.ope.evaluate_policy` does for discrete actions (tests/test_ope_few_terms.py).

Evidence (the truth is exact: ``simulate_pricing``'s ``truth.policy_value(c, bandwidth=h)``, V(pi_h) on
the log's contexts by quadrature):
* few regime: n = 5,000 rows, a uniform logger on [1, 10], the target price 10 (the top of the range;
  the renormalised kernel) at bandwidth 0.25: ~116 rows in the kernel, ~2 purchases (the buying
  probability at price 10 is ~2%). Coverage of the 95% percentile interval (B = 200) measured 0.780
  for ips and 0.783 for snips over R = 300 logs (0.802 / 0.809 over 2000), asserted <= 0.91 (> 3 binomial
  s.e. (0.0126) below 0.95), and the warning fires on every log (the code before it said nothing at all).
  By ess_terms (ips, 600 logs): 0 on 57 logs (no purchase in the kernel: a zero-width interval [0, 0],
  coverage 0), in (0, 3) on 425 (coverage 0.89), in [3, 10) on 118 (0.97);
* ordinary regime: the package's usual pricing example, ``simulate_pricing(2000)`` (Gaussian logger),
  the optimal price at bandwidth 0.5 (~420 informative rows): coverage measured 0.953 (ips) and 0.937
  (snips) over 300 logs, asserted in [0.91, 0.99] (0.95 +- 3 s.e.), and no diagnostics warning at all
  (0.947 / 0.941 over 2000). The slow tier repeats both with R = 2000 logs: bands [0.76, 0.85] (the
  measured 0.80 +- ~4.5 s.e.) and [0.93, 0.97].
"""
import dataclasses
import warnings

import numpy as np
import pytest

from workbench.data import simulate_pricing
from workbench.ope import OPEDiagnosticWarning
from workbench.ope.continuous import (ContinuousRewardModel, bandwidth_sweep, evaluate_continuous_policy,
                                      kernel_estimate, smoothed_policy_weights)
from workbench.ope.evaluate import informative_terms

OLD_COLUMNS = ["estimator", "value", "ci_low", "ci_high", "se", "alpha", "method", "n", "bandwidth", "kernel",
               "boundary", "ess", "mean_weight", "max_weight", "share_zero_weight", "n_bootstrap", "interval"]


def _caught(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [str(w.message) for w in rec if issubclass(w.category, OPEDiagnosticWarning)]


def few_log(seed, n=5000, price=10.0):
    """A uniform logger and a target that always asks the top price: few purchases inside its kernel."""
    log, truth = simulate_pricing(n, logging="uniform", random_state=seed)
    return log, truth, np.full(n, price)


def _q(ctx, a):  # a fixed, wrong reward model (dr and dm only need one)
    return 0.4 * a


# ---------------------------------------------------------------------------------------------
# Reported
# ---------------------------------------------------------------------------------------------
def test_column_is_informative_terms_of_the_kernel_weights_appended_last_nan_for_dm():
    log, truth, c = few_log(0)
    out = evaluate_continuous_policy(log, c, bandwidth=0.25, estimators=["ips", "snips", "dr", "dm"],
                                     reward_model=_q, n_bootstrap=50, warn=False)
    assert list(out.columns) == OLD_COLUMNS + ["ess_terms"]  # appended: the old order and positions are kept
    w = smoothed_policy_weights(log, c, 0.25)
    k = informative_terms(w, log.reward)
    assert 0 < k < 10  # the few regime: ~2 purchases inside the kernel
    assert out["ess_terms"].iloc[:3].tolist() == [k, k, k]  # ips, snips and dr weigh rows by the same w
    assert np.isnan(out["ess_terms"].iloc[3])  # dm has no weighted terms
    # another kernel and bandwidth: still the value of the weights the estimator uses
    out = evaluate_continuous_policy(log, c, bandwidth=0.6, kernel="box", n_bootstrap=50, warn=False)
    assert out["ess_terms"].iloc[0] == informative_terms(smoothed_policy_weights(log, c, 0.6, kernel="box"),
                                                         log.reward)
    # the usual example: hundreds of informative rows
    log, truth = simulate_pricing(2000, random_state=0)
    best = truth.optimal_action()
    out = evaluate_continuous_policy(log, best, bandwidth=0.5, n_bootstrap=50)
    assert out["ess_terms"].iloc[0] == informative_terms(smoothed_policy_weights(log, best, 0.5), log.reward) > 300


def test_kernel_estimate_and_bandwidth_sweep_report_it():
    log, truth, c = few_log(1)
    e = kernel_estimate(log, c, bandwidth=0.25, estimator="snips", n_bootstrap=50, warn=False)
    assert list(e.diagnostics)[-1] == "ess_terms"
    assert e.diagnostics["ess_terms"] == informative_terms(smoothed_policy_weights(log, c, 0.25), log.reward)
    dm = kernel_estimate(log, c, bandwidth=0.25, estimator="dm", reward_model=_q, n_bootstrap=50, warn=False)
    assert np.isnan(dm.diagnostics["ess_terms"])
    bws = [0.25, 1.0, 3.0]
    sw = bandwidth_sweep(log, c, bws, truth=truth, n_bootstrap=50)
    assert sw.columns[-1] == "ess_terms" and sw.columns[-2] == "rmse_proxy"  # after the truth columns
    ips = sw[sw.estimator == "ips"]
    want = [informative_terms(smoothed_policy_weights(log, c, h), log.reward) for h in bws]
    assert ips["ess_terms"].tolist() == want
    # the remedy the warning names: a larger bandwidth takes in more rewarded rows
    assert want[0] < 10 < want[-1] and ips["ess_terms"].is_monotonic_increasing


def test_same_value_whatever_the_reward_offset_and_scale():
    log, truth, c = few_log(2)
    a = evaluate_continuous_policy(log, c, bandwidth=0.25, n_bootstrap=50, warn=False)
    for r in (log.reward + 5.0, 3.0 * log.reward, -log.reward):
        b = evaluate_continuous_policy(dataclasses.replace(log, reward=r), c, bandwidth=0.25, n_bootstrap=50,
                                       warn=False)
        np.testing.assert_allclose(b["ess_terms"], a["ess_terms"], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Warned
# ---------------------------------------------------------------------------------------------
def test_warning_names_the_count_once_and_respects_warn_false():
    log, truth, c = few_log(3)
    out, msgs = _caught(evaluate_continuous_policy, log, c, bandwidth=0.25, n_bootstrap=50)
    k = out["ess_terms"].iloc[0]
    assert k < 10 and out["ess"].iloc[0] > 50  # the weights' ESS alarm (max(30, 1% of 5000)) stays quiet
    assert len(msgs) == 1, msgs  # one warning per call
    assert f"ess_terms = {k:.3g}, below 10" in msgs[0] and "bandwidth 0.25" in msgs[0]
    assert "larger bandwidth" in msgs[0] and "dr with a reward model" in msgs[0]
    assert "bernstein" not in msgs[0] and "sndr" not in msgs[0]  # the discrete remedies do not exist here
    assert "effective sample size of the kernel weights is" not in msgs[0]
    assert _caught(evaluate_continuous_policy, log, c, bandwidth=0.25, n_bootstrap=50, warn=False)[1] == []
    # kernel_estimate passes warn on
    assert sum("ess_terms" in m for m in _caught(kernel_estimate, log, c, bandwidth=0.25, n_bootstrap=50)[1]) == 1
    assert _caught(kernel_estimate, log, c, bandwidth=0.25, n_bootstrap=50, warn=False)[1] == []
    # with a thin-weights alarm too: both clauses, still one warning
    few, tr = simulate_pricing(400, logging="uniform", random_state=3)
    _, msgs = _caught(evaluate_continuous_policy, few, np.full(400, 10.0), bandwidth=0.25, n_bootstrap=50)
    assert len(msgs) == 1 and "effective sample size of the kernel weights" in msgs[0] and "ess_terms" in msgs[0]


def test_not_for_dm_alone_nor_when_no_row_has_weight():
    log, truth, c = few_log(4)
    model = ContinuousRewardModel(_q)
    _, msgs = _caught(evaluate_continuous_policy, log, c, bandwidth=0.25, estimators=["dm"], reward_model=model,
                      n_bootstrap=50)
    assert not any("ess_terms" in m for m in msgs)
    # (the same call with dm and ips does warn: the clause is about the weighted estimators)
    _, msgs = _caught(evaluate_continuous_policy, log, c, bandwidth=0.25, estimators=["dm", "ips"],
                      reward_model=model, n_bootstrap=50)
    assert sum("ess_terms" in m for m in msgs) == 1
    # the kernel covers no logged action: the "no support" message alone (ess_terms would say "0 rows")
    keep = log.action < 9.0
    sub = dataclasses.replace(log, action=log.action[keep], reward=log.reward[keep], density=log.density[keep],
                              context=log.context[keep])
    out, msgs = _caught(evaluate_continuous_policy, sub, c[keep], bandwidth=0.25, n_bootstrap=50)
    assert out["ess_terms"].iloc[0] == 0.0
    assert len(msgs) == 1 and "no support" in msgs[0] and "ess_terms" not in msgs[0]


# ---------------------------------------------------------------------------------------------
# Evidence: the situation is real, and the warning separates it from ordinary data
# ---------------------------------------------------------------------------------------------
def coverage(R, few, seed0=0):
    hits = {"ips": 0, "snips": 0}
    warned = any_warning = 0
    smallest = np.inf
    for s in range(R):
        if few:
            log, truth, c = few_log(seed0 + s)
            h = 0.25
        else:  # the package's usual pricing example
            log, truth = simulate_pricing(2000, random_state=seed0 + s)
            c, h = truth.optimal_action(), 0.5
        vh = truth.policy_value(c, bandwidth=h)  # exact V(pi_h) on the log's contexts
        out, msgs = _caught(evaluate_continuous_policy, log, c, bandwidth=h, n_bootstrap=200, random_state=s)
        for _, row in out.iterrows():
            hits[row.estimator] += bool(row.ci_low <= vh <= row.ci_high)
        warned += any("ess_terms" in m for m in msgs)
        any_warning += bool(msgs)
        smallest = min(smallest, out["ess_terms"].iloc[0])
    return {k: v / R for k, v in hits.items()}, warned / R, any_warning / R, smallest


def test_few_informative_rows_under_cover_and_warn():
    cov, warned, _, smallest = coverage(300, few=True)
    assert max(cov.values()) <= 0.91, cov  # measured 0.780 / 0.783: clearly below 0.95
    assert warned == 1.0, warned


def test_ordinary_regime_covers_and_stays_quiet():
    cov, warned, any_warning, smallest = coverage(300, few=False)
    assert all(0.91 <= v <= 0.99 for v in cov.values()), cov  # measured 0.953 / 0.937
    assert any_warning == 0.0
    assert smallest > 300  # ~420 informative rows (the kernel meets ~600 rows, 3 in 4 of them buy)


@pytest.mark.slow
def test_coverage_bands_thorough():
    cov, warned, _, _ = coverage(2000, few=True, seed0=10_000)
    assert all(0.76 <= v <= 0.85 for v in cov.values()) and warned == 1.0, (cov, warned)
    cov, warned, any_warning, _ = coverage(2000, few=False, seed0=10_000)
    assert all(0.93 <= v <= 0.97 for v in cov.values()) and any_warning == 0.0, (cov, any_warning)
