"""Paths to the same quantity in workbench.active must agree (regression tests for inconsistencies found)."""
import itertools

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from workbench.active import SelectionTask, benchmark_risk, contested_points, estimate_risk
from workbench.active.risk import INTERVAL_PROMISES
from workbench.data import PredictionLog, loss_matrix


def _pool(n=60, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(c) * 0.7, size=n), rng.integers(0, c, n)


def _features_pool(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    p1 = 1 / (1 + np.exp(-X[:, 1]))
    return np.c_[1 - p1, p1], y, X


# -- estimate_risk: the same SeedSequence is the same run ------------------------------------------
def test_same_seed_sequence_twice_same_trace_with_unseeded_classifier_surrogate():
    # The surrogate's seed was spawned from the caller's SeedSequence, advancing it: a second call with the
    # same SeedSequence seeded the surrogate differently (an int seed never did).
    probs, y, X = _features_pool()
    ss = np.random.SeedSequence(5)
    kw = dict(surrogate=RandomForestClassifier(n_estimators=3), features=X)
    a = estimate_risk(probs, y, 20, random_state=ss, **kw)
    b = estimate_risk(probs, y, 20, random_state=ss, **kw)
    c = estimate_risk(probs, y, 20, random_state=5, **kw)
    assert ss.n_children_spawned == 0
    np.testing.assert_array_equal(a.estimates, b.estimates)
    np.testing.assert_array_equal(a.estimates, c.estimates)


def test_benchmark_risk_identical_classifier_configs_agree_and_match_direct_runs():
    # benchmark_risk shares each child seed between its estimators; the first classifier-surrogate
    # estimator advanced it, so an identical second one (and n_jobs=1 against n_jobs>1) gave other numbers.
    probs, y, X = _features_pool()
    cfg = {"surrogate": RandomForestClassifier(n_estimators=3), "features": X}
    res = benchmark_risk(probs, y, {"rf": cfg, "rf_again": dict(cfg)}, budget=12, seeds=3, random_state=3, n_jobs=1)
    rf = res[res["estimator"] == "rf"].drop(columns="estimator").reset_index(drop=True)
    again = res[res["estimator"] == "rf_again"].drop(columns="estimator").reset_index(drop=True)
    assert rf.equals(again)
    truth = float(res["true_risk"].iloc[0])
    est = np.array([estimate_risk(probs, y, 12, random_state=s, **cfg).estimates
                    for s in np.random.SeedSequence(3).spawn(3)])
    np.testing.assert_allclose(again["mse"], ((est - truth) ** 2).mean(0), rtol=0, atol=0)


# -- estimate_risk: every label known -> the truth, bit for bit ------------------------------------
@pytest.mark.parametrize("method", ["lure", "iid", "ase", "dr", "naive"])
def test_full_pool_cross_entropy_estimate_is_the_truth_and_its_interval_covers_it(method):
    # The full-pool estimate summed the losses in acquisition order; the truth (loss_matrix, as
    # benchmark_risk computes it) sums them in pool order: ~1e-16 apart, so the exact interval
    # [est, est] missed the truth.
    probs, y = _pool()
    truth = float(loss_matrix(probs[None], y, "cross_entropy")[0].mean())
    for seed in range(3):
        t = estimate_risk(probs, y, probs.shape[0], loss="cross_entropy", method=method, random_state=seed)
        assert t.estimates[-1] == truth
        assert t.ci_low[-1] <= truth <= t.ci_high[-1]
        assert t.estimate.value == truth and t.to_frame()["estimate"].iloc[-1] == truth


def test_benchmark_risk_full_pool_cross_entropy_ratio_nan_and_coverage_one():
    # documented: mse_ratio_vs_iid is NaN where both MSEs are 0, e.g. with every pool point labelled
    probs, y = _pool(n=30)
    res = benchmark_risk(probs, y, {"lure": {"method": "lure"}, "dr": {"method": "dr"}}, budget=30, seeds=2,
                         loss="cross_entropy", random_state=1)
    last = res[res["labels"] == 30]
    assert (last["mse"] == 0).all()
    assert last["mse_ratio_vs_iid"].isna().all()
    assert (last["coverage"] == 1).all()


# -- estimate_risk: the interval promise is the method's -------------------------------------------
def test_dr_interval_promise_is_drs_own():
    # dr's Wilson interval (0-1 loss) carried the generic "wilson-neff" promise (lure/iid: ~nominal coverage
    # down to M ~ 10), not dr's own entry, which says where it undercovers (cross-entropy already had dr's)
    probs, y = _pool()
    for loss in ("zero_one", "cross_entropy"):
        t = estimate_risk(probs, y, 10, loss=loss, method="dr", random_state=0)
        assert t.interval_promise == INTERVAL_PROMISES["dr"][1]
        for method in ("lure", "iid"):  # unchanged: their Wilson / t intervals keep the interval kind's entry
            t = estimate_risk(probs, y, 10, loss=loss, method=method, random_state=0)
            assert t.interval_promise == INTERVAL_PROMISES[t.interval_method][1]


# -- tasks: difficulty does not depend on how classes or models are numbered -----------------------
def test_contested_points_do_not_depend_on_class_numbering():
    # Six models; one point for every class order of the vote counts (1, 2, 3), two calmer points. The same
    # vote shares summed in another class order differed in the last bit, and the cut split the tie.
    cols = [np.repeat(np.arange(3), p) for p in itertools.permutations((1, 2, 3))]
    cols += [np.repeat(np.arange(3), (5, 1, 0)), np.repeat(np.arange(3), (0, 5, 1))]
    pred = np.stack(cols, axis=1)
    relabel = np.array([1, 2, 0])
    for share in (0.1, 0.3, 0.5):
        got = contested_points(pred, share)
        np.testing.assert_array_equal(got, contested_points(relabel[pred], share))
        assert got[:6].all() and not got[6:].any()  # the six tied points: all in


def _tied_best_task(order):
    # models A, B tied for the pool's best; on the contested points (all three differ) B is best, A worst
    y = np.zeros(35, int)
    a = np.r_[[0] * 1 + [1] * 9, [0] * 5, [0] * 20]  # 10 contested, 5 two-against-one, 20 all agree
    b = np.r_[[1] * 1 + [0] * 6 + [2] * 3, [1] * 5, [0] * 20]
    c = np.r_[[2] * 1 + [2] * 6 + [0] * 3, [1] * 5, [0] * 20]
    pred = np.stack([a, b, c])[list(order)]
    probs = np.where(np.arange(3) == pred[..., None], 0.8, 0.1)
    return SelectionTask("tied", PredictionLog(probs, labels=y), "synthetic", None)


def test_difficulty_tied_best_rank_does_not_depend_on_model_order():
    # contested_best_rank was the first tied model's rank (2 with A listed first, 0 with B first), and
    # then disagreed with contested_best_regret (0: the model best there is a pool best)
    d = [_tied_best_task(o).difficulty() for o in ((0, 1, 2), (1, 0, 2), (2, 1, 0))]
    assert d[0]["n_tied_best"] == 2
    for x in d:
        assert x["contested_best_rank"] == 0
        assert x["contested_best_regret"] == 0
