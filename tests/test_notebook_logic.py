"""Package functions that replaced logic written by hand in the notebooks (07, 11), each checked
against the hand-written version it replaced."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench._validation import ValidationError
from workbench.data import simulate_drifting_stream, simulate_pricing, train_historical_models
from workbench.ope import bandwidth_monte_carlo
from workbench.resample import compare_models, period_losses


# ---------------------------------------------------------------- bandwidth_monte_carlo(n_jobs=)
def _sim(rs):
    return simulate_pricing(300, logging="capped-igw", random_state=rs)


def _target(log, truth):
    return truth.optimal_action()


def test_bandwidth_monte_carlo_same_result_whatever_n_jobs():
    # each replicate is seeded by its own SeedSequence child, fixed before dispatch: two workers must
    # give bit-for-bit the frame one worker gives (and the default, None)
    kw = dict(n_replicates=6, estimators=["ips", "snips"], random_state=5)
    one = bandwidth_monte_carlo(_sim, _target, [0.3, 1.0], n_jobs=1, **kw)
    two = bandwidth_monte_carlo(_sim, _target, [0.3, 1.0], n_jobs=2, **kw)
    default = bandwidth_monte_carlo(_sim, _target, [0.3, 1.0], **kw)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(one, default, check_exact=True)
    assert one["sd"].gt(0).all()  # the replicates differ: not one log drawn six times


def test_bandwidth_monte_carlo_replicate_r_is_seeded_by_child_r():
    # replicate r is simulate(default_rng(SeedSequence(random_state).spawn(R)[r])), whatever n_jobs
    kids = np.random.SeedSequence(5).spawn(3)
    seen = []

    def sim(rng):
        seen.append(rng.integers(0, 2**62))
        return _sim(rng)

    bandwidth_monte_carlo(sim, _target, [1.0], n_replicates=3, random_state=5, n_jobs=1)
    assert seen == [np.random.default_rng(k).integers(0, 2**62) for k in kids]


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2", True])
def test_bandwidth_monte_carlo_refuses_a_bad_n_jobs_before_simulating(n_jobs):
    calls = []

    def sim(rng):
        calls.append(1)
        return _sim(rng)

    with pytest.raises(ValidationError, match="n_jobs"):
        bandwidth_monte_carlo(sim, _target, [1.0], n_replicates=3, n_jobs=n_jobs)
    assert not calls


def test_bandwidth_monte_carlo_bad_simulate_fails_in_the_calling_process():
    with pytest.raises(ValidationError, match="simulate"):
        bandwidth_monte_carlo(lambda rs: _sim(rs)[0], _target, [1.0], n_replicates=3, n_jobs=2)


# ---------------------------------------------------------------- period_losses
@pytest.fixture(scope="module")
def drift():
    stream = simulate_drifting_stream(n_periods=6, points_per_period=80, drift="recurring", season=3,
                                      random_state=1)
    return train_historical_models(stream, train_window=1)


def _by_hand(log, available_from, period):
    # notebook 11's cell, before: eligible models' zero-one losses on the period's points, np.ix_
    eligible = [j for j, a in enumerate(available_from) if a <= period]
    recent = np.flatnonzero(log.timestamp == period)
    return log.losses("zero_one")[np.ix_(eligible, recent)].T, [log.model_names[j] for j in eligible], recent


@pytest.mark.parametrize("period", [None, 1, 3])
def test_period_losses_equals_the_hand_indexing(drift, period):
    log, avail = drift
    p = log.timestamp.max() if period is None else period
    L, names, recent = _by_hand(log, avail, p)
    got = period_losses(log, avail, period=period)
    assert list(got.columns) == names
    np.testing.assert_array_equal(got.to_numpy(), L)
    np.testing.assert_array_equal(got.index.to_numpy(), recent)


def test_period_losses_feeds_compare_models_unchanged(drift):
    log, avail = drift
    L, names, _ = _by_hand(log, avail, log.timestamp.max())
    a = compare_models(L, names=names, baseline=names[-1], n_resamples=200, random_state=0)
    got = period_losses(log, avail)
    b = compare_models(got, baseline=got.columns[-1], n_resamples=200, random_state=0)
    pd.testing.assert_frame_equal(a.models, b.models)
    pd.testing.assert_frame_equal(a.differences, b.differences)


def test_period_losses_leaves_unlabelled_points_out(drift):
    log, avail = drift
    last = np.flatnonzero(log.timestamp == log.timestamp.max())
    labelled = np.ones(log.n_points, bool)
    labelled[last[:5]] = False
    got = period_losses(log.with_labels(log.labels, labelled=labelled), avail)
    assert got.shape[0] == last.size - 5 and not np.isin(last[:5], got.index).any()


def test_period_losses_refusals(drift):
    log, avail = drift
    with pytest.raises(ValidationError, match="period.*must be one of the log's 6 periods"):
        period_losses(log, avail, period=99)
    with pytest.raises(ValidationError, match="^period: must be times"):
        period_losses(log, avail, period="3")  # text is not a period (the field is period, not available_from)
    with pytest.raises(ValidationError, match="no model is available by period 0"):
        period_losses(log, avail, period=0)
    with pytest.raises(ValidationError, match="one entry per model"):
        period_losses(log, avail[:-1])
    with pytest.raises(ValidationError, match="loss"):
        period_losses(log, avail, loss="hinge")


def test_period_losses_is_exported():
    assert "period_losses" in wb.resample.__all__ and wb.resample.period_losses is period_losses


def test_bandit_truth_subset_follows_the_log_subset():
    # Notebook 04 sliced truth.expected_reward by hand to get exact values on its evaluation rows; the truth
    # now selects the same rows as BanditLog.subset, subclasses keep their extra per-row arrays.
    import workbench as wb
    from workbench import ValidationError

    log, truth = wb.data.simulate_bandit(400, n_actions=4, dim_context=3, random_state=2)
    rows = np.sort(np.random.default_rng(0).permutation(400)[:150])
    sub_log, sub = log.subset(rows), truth.subset(rows)
    assert len(sub) == len(sub_log) == 150 and sub.n_actions == 4
    np.testing.assert_array_equal(sub.behavior_dist, sub_log.behavior_dist)
    np.testing.assert_array_equal(sub.context, sub_log.context)
    pi = np.full((150, 4), 0.25)
    assert sub.policy_value(pi) == pytest.approx(truth.expected_reward[rows].mean(), rel=1e-12)
    mask = np.zeros(400, bool)
    mask[rows] = True
    assert truth.subset(mask).behavior_value == sub.behavior_value
    assert len(truth.subset(slice(10, 20))) == 10 and len(truth.subset(3)) == 1
    with pytest.raises(ValidationError, match="index"):
        truth.subset(np.array([0.5]))
    rlog, rtruth = wb.data.simulate_routing(120, random_state=0)
    bt = rtruth.bandit_truth(0.5).subset(slice(0, 40))
    assert type(bt) is type(rtruth.bandit_truth(0.5)) and bt.quality.shape[0] == 40 == bt.output_cost.shape[0]
    np.testing.assert_array_equal(bt.expected_reward, rtruth.subset(slice(0, 40)).bandit_truth(0.5).expected_reward)
