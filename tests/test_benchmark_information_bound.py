"""Part E of ``benchmarks/active_selection.py``: the information bound for risk estimation.

Its figures back the claim that the 2x risk-estimation target cannot be met on the synthetic tasks with a
zoo-built surrogate, so its helpers are tested on zoos where the answer is known."""
from __future__ import annotations

import numpy as np
import pytest
from _bench_loader import load_benchmark  # tests/ is on sys.path (pytest prepends it)
from scipy.special import logsumexp, softmax

bench = load_benchmark("active_selection")


def _zoo_with_a_true_model(h=6, n=400, c=3, seed=0):
    """Model 0 is the label distribution itself (labels are drawn from it); the others are its noisy copies."""
    rng = np.random.default_rng(seed)
    truth = rng.dirichlet(np.full(c, 0.3), size=n)
    y = (rng.random((n, 1)) > truth.cumsum(1)).sum(1)
    logits = np.log(truth)[None] + rng.normal(scale=3.0, size=(h, n, c)) * (np.arange(h) > 0)[:, None, None]
    return softmax(logits, axis=2), y


def _objective(logp, y, idx, ridge, center, w):
    z = np.tensordot(w, logp[:, idx], 1)
    return -np.mean(z[np.arange(len(idx)), y[idx]] - logsumexp(z, axis=1)) + ridge * np.sum((w - center) ** 2)


def test_log_linear_pool_fit_is_a_minimum_and_finds_the_true_model():
    probs, y = _zoo_with_a_true_model()
    logp = np.log(probs)
    idx = np.arange(len(y))
    center = np.full(len(probs), 1 / len(probs))
    w = bench.fit_log_linear_pool(logp, y, idx, 1e-3, center)
    f = _objective(logp, y, idx, 1e-3, center, w)
    for h in range(len(w)):  # no coordinate step lowers the penalised likelihood (the analytic gradient is right)
        for step in (-1e-3, 1e-3):
            assert f <= _objective(logp, y, idx, 1e-3, center, w + step * np.eye(len(w))[h]) + 1e-9
    assert w[0] > 0.8 and np.abs(w[1:]).max() < 0.15  # the labels come from model 0
    # a ridge that dominates keeps the centre; the fit on a subset uses only that subset's labels
    assert np.allclose(bench.fit_log_linear_pool(logp, y, idx, 1e6, center), center, atol=1e-4)
    sub = idx[:50]
    y_other = y.copy()
    y_other[50:] = (y[50:] + 1) % 3
    assert np.allclose(bench.fit_log_linear_pool(logp, y_other, sub, 0.1, center),
                       bench.fit_log_linear_pool(logp, y, sub, 0.1, center))


def test_surrogate_ratios_are_one_for_a_constant_and_grow_with_a_true_surrogate():
    probs, y = _zoo_with_a_true_model()
    model = 3
    flat = np.full_like(probs[0], 1 / 3)  # every point the same expected loss: a constant control
    r = bench.surrogate_ratios(probs[model], y, flat, "flat")
    assert r["flat / uniform"] == pytest.approx(1.0)
    assert r["flat / sqrt_q"] == pytest.approx(1.0)  # q is uniform too
    truth = bench.surrogate_ratios(probs[model], y, probs[0], "truth")
    assert truth["truth / uniform"] > 1.2 and truth["truth / sqrt_q"] > truth["truth / uniform"]


def test_learned_pool_ratios_approach_the_oracle_and_skip_label_counts_beyond_the_pool():
    probs, y = _zoo_with_a_true_model()
    model = 3
    oracle = bench.surrogate_ratios(probs[model], y, probs[0], "truth")["truth / sqrt_q"]
    zoo_mean = bench.surrogate_ratios(probs[model], y, probs.mean(0), "m")["m / sqrt_q"]
    r = bench.learned_pool_ratios(probs, y, model, labels=(10, 200, 401), n_seeds=4, random_state=1)
    assert list(r) == ["pool_fitted_on_10_labels / sqrt_q", "pool_fitted_on_200_labels / sqrt_q"]
    # 200 labels find model 0 (the truth): within 5% of the true surrogate's ratio (2.09), well above the zoo
    # average's (1.50), which 10 labels do not yet reach
    assert r["pool_fitted_on_200_labels / sqrt_q"] > max(0.95 * oracle, 1.25 * zoo_mean)
    assert r["pool_fitted_on_200_labels / sqrt_q"] <= oracle * 1.05  # the truth is the best surrogate in expectation
    assert r["pool_fitted_on_200_labels / sqrt_q"] > r["pool_fitted_on_10_labels / sqrt_q"]
    # hindsight choice of the ridge: at least as good as every single ridge, seeded, and reproducible
    one = bench.learned_pool_ratios(probs, y, model, labels=(10,), ridges=(10.0,), n_seeds=4, random_state=1)
    assert r["pool_fitted_on_10_labels / sqrt_q"] >= one["pool_fitted_on_10_labels / sqrt_q"] - 1e-12
    assert bench.learned_pool_ratios(probs, y, model, labels=(10, 200), n_seeds=4, random_state=1) == r
