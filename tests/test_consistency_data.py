"""Paths of the logged-data pillar that must agree: round trips, simulators and their truths, caches."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.data import (BanditLog, PredictionLog, classification_to_bandit, load_open_bandit, make_model_zoo,
                            simulate_bandit, simulate_routing)


# the project's shipped sample (given as path=, so that an older copy of the package reads it too)
SHIPPED = Path(__file__).resolve().parents[1] / "data" / "open_bandit"


def _kw(n=3):
    return {"action": np.arange(n) % 2, "reward": np.ones(n), "propensity": np.full(n, 0.5), "n_actions": 2}


# -- BanditLog.from_frame -------------------------------------------------------------------------
def test_from_frame_takes_context_names_as_any_sequence():
    """context=frame.columns[3:] (an Index) or an array raised "truth value ... is ambiguous"; a list worked."""
    log, _ = simulate_bandit(20, n_actions=3, dim_context=2, random_state=0)
    frame = log.to_frame()
    for names in (["x0", "x1"], frame.columns[3:], np.array(["x0", "x1"])):
        again = BanditLog.from_frame(frame, context=names, n_actions=3)
        assert np.array_equal(again.context, log.context)
        assert again.context_names == ("x0", "x1") and all(type(c) is str for c in again.context_names)


# -- timestamps: a Series, its to_numpy() and a list of its values are the same instants ------------
def test_time_zone_aware_datetime_objects_equal_the_series():
    ts = pd.Series(pd.date_range("2020-03-29 00:30", periods=3, freq="h", tz="Europe/Paris"))
    want = BanditLog(**_kw(), timestamp=ts).timestamp
    for other in (ts.to_numpy(), list(ts)):  # an object array of Timestamps, a list of them
        assert np.array_equal(BanditLog(**_kw(), timestamp=other).timestamp, want)
        assert np.array_equal(PredictionLog(np.full((1, 3, 2), 0.5), timestamp=other).timestamp, want)
    # several zones are still instants; a naive value among aware ones is not
    mixed = [ts[0], ts[1].tz_convert("UTC"), ts[2].tz_convert("America/New_York")]
    assert np.array_equal(BanditLog(**_kw(), timestamp=mixed).timestamp, want)
    with pytest.raises(ValidationError, match="^timestamp: must be datetimes of one kind"):
        BanditLog(**_kw(), timestamp=[ts[0], ts[1], pd.Timestamp("2020-03-29")])


# -- RoutingLog / RoutingTruth ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def routing():
    return simulate_routing(60, random_state=0)


def test_routing_subset_by_int_is_one_row_like_bandit_log(routing):
    """RoutingLog.subset(3) made 0-d arrays and a Series of prompts; RoutingTruth.subset(3) 1-D rows."""
    log, truth = routing
    for idx in (3, -57):
        one = log.subset(idx)
        assert len(one) == 1 and one.prompts.shape == (1, 3) and one.context.shape == (1, 7)
        assert np.array_equal(one.bandit_log(0.1).reward, log.bandit_log(0.1).subset(idx).reward)
        t = truth.subset(idx)
        assert len(t) == 1 and t.expected_quality.shape == (1, 5)
        assert np.array_equal(t.expected_quality, truth.expected_quality[[idx]])
        assert np.array_equal(t.behavior_dist, one.behavior_dist)
        assert t.value(one.action, 0.1) == pytest.approx(float(t.expected_reward(0.1)[0, one.action[0]]))
    with pytest.raises(ValidationError, match="^index: "):
        log.subset(60)


def test_routing_log_is_read_only_like_bandit_log(routing):
    log, _ = routing
    for name in ("action", "propensity", "behavior_dist", "quality", "cost", "context"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(log, name)[0] = 0


@pytest.mark.parametrize("lam", [True, "0.5"])
def test_routing_bandit_log_checks_lam_as_the_truth_does(routing, lam):
    """bandit_log took float(lam): "0.5" and True passed where truth.value refuses them."""
    log, truth = routing
    with pytest.raises(ValidationError, match="^lam: "):
        truth.value(log.behavior_dist, lam)
    with pytest.raises(ValidationError, match="^lam: "):
        log.bandit_log(lam)


def test_simulators_check_epsilon_and_temperature_as_simulate_bandit_does():
    with pytest.raises(ValidationError, match="^epsilon: "):
        simulate_bandit(10, behavior="epsilon-greedy", epsilon=True)
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = np.arange(20) % 2
    with pytest.raises(ValidationError, match="^epsilon: "):
        classification_to_bandit(X, y, epsilon=True)
    with pytest.raises(ValidationError, match="^epsilon: "):
        simulate_routing(10, epsilon=True)
    with pytest.raises(ValidationError, match="^temperature: "):
        simulate_routing(10, temperature=True)


# -- truths and the logs they describe ---------------------------------------------------------------
def test_boolean_one_hot_policy_reads_the_same_in_every_truth(routing):
    """RoutingTruth.value took a boolean one-hot router; its bandit_truth (a BanditTruth) refused it."""
    log, truth = routing
    best = truth.best_router(0.2)
    mask = np.eye(5, dtype=bool)[best]
    want = truth.value(best, 0.2)
    assert truth.value(mask, 0.2) == pytest.approx(want)
    assert truth.bandit_truth(0.2).policy_value(mask) == pytest.approx(want)
    blog, btruth = simulate_bandit(30, n_actions=3, random_state=0)
    act = btruth.expected_reward.argmax(axis=1)
    assert btruth.policy_value(np.eye(3, dtype=bool)[act]) == btruth.policy_value(act)


def test_truth_describes_the_log_even_after_the_caller_changes_its_arrays():
    """classification_to_bandit's truth held the caller's X; simulate_bandit's the caller's behavior."""
    from workbench.ope import UniformPolicy

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)
    log, truth = classification_to_bandit(X, y, behavior="uniform", random_state=0)
    X[:] = np.nan
    assert np.array_equal(truth.context, log.context) and np.isfinite(truth.context).all()
    assert truth.policy_value(UniformPolicy()) == 0.5

    behavior = np.full((30, 3), 1 / 3)
    log, truth = simulate_bandit(30, n_actions=3, behavior=behavior, random_state=0)
    behavior[:] = [1.0, 0.0, 0.0]
    assert np.array_equal(truth.behavior_dist, log.behavior_dist)
    assert truth.behavior_value == pytest.approx(truth.expected_reward.mean())


# -- make_model_zoo ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_data():
    from sklearn.datasets import make_classification

    return make_classification(150, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)


@pytest.mark.parametrize("shift", ["noise", "prior"])
def test_zoo_shift_strength_zero_is_the_unshifted_zoo(small_data, shift):
    """Documented as "0: no shift", but the unused noise draws changed every model's subsample."""
    X, y = small_data
    base = make_model_zoo(X, y, n_models=2, cache_dir=False, progress=False)
    zero = make_model_zoo(X, y, n_models=2, shift=shift, shift_strength=0, cache_dir=False, progress=False)
    assert np.array_equal(zero.probs, base.probs) and np.array_equal(zero.features, base.features)
    assert np.array_equal(zero.labels, base.labels)


def test_zoo_refuses_a_bad_random_state_whether_or_not_it_is_cached(small_data, tmp_path):
    """random_state=True loaded the cached zoo of seed 1 (and raised only on a cache miss)."""
    X, y = small_data
    cached = make_model_zoo(X, y, n_models=2, random_state=1, cache_dir=tmp_path, progress=False)
    loaded = make_model_zoo(X, y, n_models=2, random_state=1, cache_dir=tmp_path, progress=False)
    assert np.array_equal(cached.probs, loaded.probs) and cached.model_names == loaded.model_names
    for bad in (True, False):
        with pytest.raises(ValidationError, match="^random_state: "):
            make_model_zoo(X, y, n_models=2, random_state=bad, cache_dir=tmp_path, progress=False)


# -- the Open Bandit loader -------------------------------------------------------------------------
def test_open_bandit_context_columns_are_named_and_alignable():
    """The context had no names (x0 ... in to_frame), and the random and bts files one-hot code the
    user features over different levels (20 vs 22 columns): the names are what lines them up."""
    raw = pd.read_csv(SHIPPED / "random" / "all" / "all.csv.gz", index_col=0)
    users = [c for c in raw.columns if c.startswith("user_feature")]
    want = pd.get_dummies(raw[users].astype(str), drop_first=True)
    rand, bts = load_open_bandit("random", path=SHIPPED), load_open_bandit("bts", path=SHIPPED)
    assert rand.context_names == tuple(want.columns)
    assert np.array_equal(rand.context, want.to_numpy(float))
    assert list(rand.to_frame().columns[5:]) == list(want.columns)
    shared = [c for c in rand.context_names if c in bts.context_names]
    assert len(shared) == rand.dim_context and bts.dim_context == rand.dim_context + 2
    # a column of the same name means the same user-feature level in both logs
    col = shared[-1]
    ours = rand.context[:, rand.context_names.index(col)]
    theirs = bts.context[:, bts.context_names.index(col)]
    level = col[len("user_feature_3_"):]
    assert np.array_equal(ours, (raw["user_feature_3"] == level).to_numpy(float)) and theirs.sum() > 0
