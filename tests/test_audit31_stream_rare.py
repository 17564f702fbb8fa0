"""The streamed evaluation's rare-draws clause (stop 31). In memory the diagnostics warn when much of the target's
mass sits on actions the logger is expected to draw fewer than 10 times in all (undersampled_mass); the streamed
evaluation (evaluate_tabular, Parquet / chunked / Dask logs) had no such clause, so the same log warned in memory
and not when streamed."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.ope import evaluate_policy, prepare_inputs
from workbench.ope.evaluate import undersampled_mass
from workbench.scale import evaluate_tabular
from workbench.scale.ope import _WeightLevels

RARE = "expected to draw them fewer than"


def _frame(log, target):
    k = target.shape[1]
    df = pd.DataFrame({"action": log.action, "reward": log.reward, "propensity": log.propensity})
    for j in range(k):
        df[f"pi_{j}"] = target[:, j]
        df[f"b_{j}"] = log.behavior_dist[:, j]
    return df, [f"pi_{j}" for j in range(k)], [f"b_{j}" for j in range(k)]


def _messages(fn):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        fn()
    return " ".join(str(w.message) for w in got)


def test_streamed_evaluation_warns_of_rare_draws_as_memory_does():
    # the in-memory test's log: epsilon-greedy logger (0.1, 5 actions), 0.95-greedy target, 500 rows
    big, truth = wb.data.simulate_bandit(20_000, n_actions=5, behavior="epsilon-greedy", epsilon=0.1, random_state=0)
    q = truth.expected_reward
    target = 0.95 * np.eye(5)[q.argmax(1)] + 0.01
    idx = np.random.default_rng(1).choice(len(q), 500, replace=False)
    log = big.subset(idx)
    df, pi, beh = _frame(log, target[idx])
    assert RARE in _messages(lambda: evaluate_policy(log, target[idx], ["ips"], n_bootstrap=50))
    for chunk in (None, 37):
        assert RARE in _messages(lambda: evaluate_tabular(df, pi, ["ips"], behavior=beh, n_bootstrap=50,
                                                          chunk_size=chunk))
    # an ordinary log stays quiet streamed as well
    soft, struth = wb.data.simulate_bandit(500, n_actions=5, random_state=0)
    t2 = 0.95 * np.eye(5)[struth.expected_reward.argmax(1)] + 0.01
    df2, pi2, beh2 = _frame(soft, t2)
    assert RARE not in _messages(lambda: evaluate_tabular(df2, pi2, ["ips"], behavior=beh2, n_bootstrap=50,
                                                          chunk_size=41))


@pytest.mark.parametrize("seed", range(5))
def test_merged_weight_levels_give_the_in_memory_share_for_any_chunking(seed):
    rng = np.random.default_rng(seed)
    n, k = 400, 6
    log, _ = wb.data.simulate_bandit(n, n_actions=k, behavior="epsilon-greedy", epsilon=0.05 * (seed + 1),
                                     random_state=seed)
    target = rng.dirichlet(np.full(k, 0.3), size=n)
    want = undersampled_mass(prepare_inputs(log, target, estimators=["ips"]))
    pe, pb = target, log.behavior_dist
    for size in (n, 64, 7, 1):
        parts = [_WeightLevels.of(pe[i:i + size], pb[i:i + size]) for i in range(0, n, size)]
        merged = parts[0]
        for p in parts[1:]:
            merged = merged.merge(p)
        assert merged.share() == pytest.approx(want, abs=1e-12)
