"""Active pillar, checked as a user on new data would use it (estimate_risk, select_model, estimate_accuracies,
benchmarks, the task suite): regressions for the defects found, each failing on the code before its fix."""
import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.active import estimate_accuracies, select_model


def _agreeing_zoo(N=60, H=3, C=3, seed=0):
    """H identical models: no point where models disagree, so every strategy's draws are uniform."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(C), N)
    return np.stack([p] * H), rng.integers(0, C, N)


@pytest.mark.parametrize("strategy", ["model_selector", "coda"])
def test_uniform_phase_of_greedy_rules_replays_through_q_vector(strategy):
    # model_selector and coda draw uniformly once no point where models disagree is left; their q_vector
    # says so (and None while they choose greedily), so estimate_accuracies replays them like the others
    probs, y = _agreeing_zoo()
    tr = select_model(probs, y, 12, strategy=strategy, random_state=3)
    out = estimate_accuracies(tr, probs)
    assert np.allclose(tr.q, 1.0 / (60 - np.arange(12)))
    assert (out.difference == 0).all() and out.exact.all()
    # the same trace read against a zoo whose models disagree: the rule would have been greedy there
    other = probs.copy()
    other[1] = np.roll(probs[1], 1, axis=1)
    # refused first by the zoo's fingerprint (stored by select_model since audit 31); a trace without one by the replay
    with pytest.raises(ValidationError, match="prediction_log: holds other probabilities"):
        estimate_accuracies(tr, other)
    import dataclasses

    bare = dataclasses.replace(tr, diagnostics={k: v for k, v in tr.diagnostics.items() if k != "pool_fingerprint"})
    with pytest.raises(ValidationError, match="does not replay on this prediction_log: at step 0.*replay gives none"):
        estimate_accuracies(bare, other)


def _imbalanced_binary_zoo(N=300, H=6, seed=11):
    """Binary labels with 15% positives; models of pool accuracy ~0.81-0.88."""
    rng = np.random.default_rng(seed)
    y = (rng.random(N) < 0.15).astype(int)
    logit = np.stack([(2 * y - 1) * a + rng.normal(0, 1.0, N) for a in np.linspace(0.3, 1.5, H)])
    p1 = 1 / (1 + np.exp(-logit - np.log(0.15 / 0.85)))
    return np.stack([1 - p1, p1], axis=2), y


def test_accuracy_interval_of_a_model_right_on_every_label_is_not_a_point():
    # random labels: a model right on all 20 labels drawn had the normal interval [1, 1] (se 0), which
    # excludes its pool accuracy of 0.97; the Wilson interval at n_eff does not collapse
    rng = np.random.default_rng(4)
    N = 500
    y = rng.integers(0, 3, N)
    pred = np.where(rng.random(N) < 0.97, y, (y + 1) % 3)
    probs = np.stack([np.eye(3)[pred] * 0.9 + 0.1 / 3, np.eye(3)[(y + 1) % 3] * 0.5 + 0.5 / 3])
    truth = (probs.argmax(2) == y).mean(1)
    tr = select_model(probs, y, 20, strategy="random", random_state=0)
    assert (pred[tr.indices] == y[tr.indices]).all()  # the case: every label right
    out = estimate_accuracies(tr, probs)
    assert out.loc[0, "accuracy"] == 1.0 and out.loc[0, "accuracy_se"] < 1e-6  # 0 up to rounding
    assert out.loc[0, "accuracy_ci_low"] < truth[0] <= out.loc[0, "accuracy_ci_high"] == 1.0
    assert (out.accuracy_ci_low <= out.accuracy).all() and (out.accuracy <= out.accuracy_ci_high).all()


def test_accuracy_intervals_cover_with_few_random_labels():
    # 10 random labels, 150 seeds: the normal intervals covered 0.81 on this zoo (0.71 for the best
    # model; 1,000 seeds), the Wilson ones 0.96 (0.95-0.98)
    probs, y = _imbalanced_binary_zoo()
    truth = (probs.argmax(2) == y).mean(1)
    cover = []
    for s in range(150):
        out = estimate_accuracies(select_model(probs, y, 10, strategy="random", random_state=s), probs, reference=5)
        cover.append(((out.accuracy_ci_low <= truth) & (truth <= out.accuracy_ci_high)).to_numpy())
    cover = np.array(cover)
    assert cover.mean() >= 0.92 and cover.mean(axis=0).min() >= 0.88, cover.mean(axis=0)


@pytest.mark.parametrize("method", ["lure", "iid", "dr"])
def test_one_point_pool_cross_entropy_interval_is_the_exact_risk(method):
    # a one-point pool, labelled: the estimate is the risk (se 0), but the Student-t interval had 0 degrees
    # of freedom and was [NaN, NaN] (the 0-1 loss's Wilson interval was already [risk, risk])
    from workbench.active import estimate_risk

    probs, y = np.array([[0.3, 0.7]]), np.array([0])
    t = estimate_risk(probs, y, 1, loss="cross_entropy", method=method, random_state=0)
    risk = -np.log(0.3)
    assert t.estimates[-1] == pytest.approx(risk, rel=1e-15) and t.se[-1] == 0.0
    assert t.ci_low[-1] == t.ci_high[-1] == t.estimates[-1]


def test_active_testing_with_floor_one_is_uniform_and_gives_accuracies():
    # floor=1 is plain uniform sampling; its q (renormalised) is within an ulp of 1 / n_remaining, and the
    # exact comparison called the design non-uniform: no absolute accuracy. It now equals random's figures
    # on the same labels.
    probs, y = _imbalanced_binary_zoo()
    tr = select_model(probs, y, 30, strategy="active_testing", floor=1.0, random_state=0)
    assert np.allclose(tr.q * (300 - np.arange(30)), 1.0, rtol=0, atol=1e-14)
    out = estimate_accuracies(tr, probs)
    truth_labelled = (probs.argmax(2)[:, tr.indices] == tr.labels).mean(axis=1)
    np.testing.assert_allclose(out.accuracy, truth_labelled, rtol=1e-12)
    assert out.accuracy_ci_low.notna().all()


@pytest.mark.parametrize("which", ["selection", "risk"])
def test_negative_n_jobs_uses_every_worker(monkeypatch, which):
    # n_jobs=-1 split the seeds into 2 chunks (2 busy cores on any machine); now 2 per worker joblib resolves
    # it to, as a positive n_jobs does. The figures do not depend on the chunks.
    import joblib

    import workbench._parallel as par
    from workbench.active import benchmark_risk, benchmark_selection
    from workbench.data import PredictionLog

    sizes, real = [], par.run_delayed

    def spy(jobs, n_jobs=None, **kw):
        jobs = list(jobs)
        sizes.append(len(jobs))
        return real(jobs, n_jobs=None, **kw)  # in process: the count is what is checked

    monkeypatch.setattr(par, "run_delayed", spy)
    probs, y = _imbalanced_binary_zoo(N=60, H=3)
    if which == "selection":
        run = lambda nj: benchmark_selection([("t", PredictionLog(probs, labels=y))], ["random"], budgets=5,  # noqa: E731
                                             seeds=12, n_jobs=nj).curves
    else:
        run = lambda nj: benchmark_risk(probs[0], y, {"lure": {}}, 5, seeds=12, n_jobs=nj)  # noqa: E731
    by_none, by_minus_one, by_three = run(None), run(-1), run(3)
    workers = joblib.effective_n_jobs(-1)
    assert sizes == [2, min(12, 2 * workers), 6] if which == "selection" else sizes == [2, 2, *[min(12, 2 * workers)] * 2, 6, 6]
    assert by_none.equals(by_minus_one) and by_none.equals(by_three)
