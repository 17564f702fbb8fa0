"""Findings of a walk through the docstrings, reprs and small-sample warnings (stop 27)."""
import warnings

import numpy as np
import pytest

from workbench.active import benchmark_selection, estimate_risk
from workbench.data import PredictionLog, simulate_bandit
from workbench.ope import (SoftmaxPolicy, UniformPolicy, benchmark_estimators, compare_policies, evaluate_policy,
                           slope_select, threshold_family)


def test_policy_comparison_repr_prints_the_values_and_intervals():
    log, _ = simulate_bandit(600, n_actions=3, random_state=0)
    cmp = compare_policies(log, {"uniform": UniformPolicy(), "softmax": SoftmaxPolicy(lambda X: X[:, :3])},
                           estimator="ips", n_bootstrap=100)
    text = repr(cmp)
    row = cmp.summary.iloc[0]
    assert "summary:" in text and "pairwise:" in text
    assert f"{row['ci_low']:.4g}" in text and f"{row['value']:.4g}" in text  # the numbers, not only the title


def test_estimator_benchmark_and_selection_benchmark_reprs_print_their_tables():
    sim = lambda seed: simulate_bandit(200, n_actions=3, random_state=seed)  # noqa: E731
    bench = benchmark_estimators(sim, UniformPolicy(), ["ips", "snips"], n_replicates=2, n_bootstrap=30)
    assert "rmse" in repr(bench) and f"{bench.summary['rmse'].iloc[0]:.4g}" in repr(bench)
    rng = np.random.default_rng(0)
    zoo = PredictionLog(rng.dirichlet(np.ones(3), size=(3, 100)), labels=rng.integers(0, 3, 100))
    res = benchmark_selection([("toy", zoo)], ["random"], budgets=5, seeds=2)
    assert "cum_regret_100" in repr(res) and f"{res.summary['cum_regret_100'].iloc[0]:.4g}" in repr(res)


def test_slope_repr_prints_the_path():
    log, _ = simulate_bandit(500, n_actions=3, random_state=0)
    res = slope_select(log, UniformPolicy(), threshold_family("ips", [float("inf"), 5]), n_bootstrap=50)
    assert "accepted" in repr(res) and "chosen" in res.to_frame().columns


def test_a_one_row_log_raises_no_propensity_alarm():
    # one weight (0.95 here) has no spread: z was inf, and the warning blamed correct propensities
    log, _ = simulate_bandit(500, n_actions=3, random_state=0)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        evaluate_policy(log[:1], np.full((1, 3), 1 / 3), ["ips"])
    texts = [str(w.message) for w in got]
    assert any("single row" in t for t in texts)
    assert not any("propensity column" in t for t in texts)


def test_equal_weights_away_from_one_on_many_rows_still_alarm():
    # the n >= 2 rule is unchanged: every propensity 0.5 for a uniform 3-action target is an error to flag
    from workbench.ope.evaluate import weight_alarms
    n = 200
    w = np.full(n, (1 / 3) / 0.5)
    assert weight_alarms(n, w.sum(), (w ** 2).sum())[2] > 0
    assert weight_alarms(1, w[:1].sum(), (w[:1] ** 2).sum())[2] == 0


@pytest.mark.parametrize("method", ["iid", "lure", "dr"])
@pytest.mark.parametrize("interval", ["auto", "normal"])
def test_cross_entropy_intervals_stay_at_or_above_zero(method, interval):
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3) * 0.5, 400)
    y = rng.integers(0, 3, 400)
    t = estimate_risk(P, y, 20, loss="cross_entropy", method=method, random_state=1, interval=interval)
    lo = t.ci_low[np.isfinite(t.ci_low)]
    assert lo.size and (lo >= 0).all()
    assert (t.ci_high[np.isfinite(t.ci_high)] >= lo.min()).all()


def test_zero_one_normal_interval_stays_in_the_unit_interval():
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(3), 300)
    y = P.argmax(1).copy()
    y[:6] = (y[:6] + 1) % 3  # a risk of 2%: a normal interval at a few labels reaches below 0
    t = estimate_risk(P, y, 40, method="iid", random_state=0, interval="normal")
    fin = np.isfinite(t.ci_low)
    assert (t.ci_low[fin] >= 0).all() and (t.ci_high[fin] <= 1).all()
