"""Findings of the stop-27 walks through the active-testing API and unusual OPE logs."""
import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.active import estimate_accuracies, select_model
from workbench.data import BanditLog, PredictionLog
from workbench.ope import evaluate_policy


def _frames():
    rng = np.random.default_rng(0)
    ids = np.arange(100, 120)
    P = rng.dirichlet(np.ones(3), size=(3, 20))
    y = rng.integers(0, 3, 20)
    return [pd.DataFrame(P[h], index=ids, columns=["cat", "dog", "emu"]) for h in range(3)], y, ids, P


def test_prediction_log_refuses_labels_sorted_apart_from_the_model_frames():
    # per-model frames are stacked by position: a label Series sorted on its own paired labels with other points
    frames, y, ids, P = _frames()
    with pytest.raises(ValidationError, match=r"^labels: index must equal the index of probs\[0\]"):
        PredictionLog(frames, labels=pd.Series(y, index=ids).sort_values())
    with pytest.raises(ValidationError, match=r"^features: index must equal the index of probs\[0\]"):
        PredictionLog(frames, features=pd.DataFrame(np.ones((20, 2)), index=ids[::-1]))
    aligned = PredictionLog(frames, labels=pd.Series(y, index=ids))
    np.testing.assert_array_equal(aligned.accuracy(), PredictionLog(P, labels=y).accuracy())


def test_select_model_refuses_an_oracle_series_sorted_apart_from_the_model_frames():
    frames, y, ids, P = _frames()
    with pytest.raises(ValidationError, match=r"^oracle: index must equal the index of prediction_log\[0\]"):
        select_model(frames, pd.Series(y, index=ids).sort_values(), 5, strategy="random", random_state=0)
    ok = select_model(frames, pd.Series(y, index=ids), 5, strategy="random", random_state=0)
    np.testing.assert_array_equal(ok.chosen, select_model(P, y, 5, strategy="random", random_state=0).chosen)


def test_exact_accuracies_and_differences_contain_the_truth_however_it_is_rounded():
    # every point labelled: the known values' intervals were zero-width and left out acc_h - acc_ref by 3e-17
    rng = np.random.default_rng(4)
    P = rng.dirichlet(np.ones(3) * 0.5, size=(5, 60))
    y = rng.integers(0, 3, 60)
    log = PredictionLog(P, labels=y)
    out = estimate_accuracies(select_model(log, None, 60, strategy="random", random_state=1), log, reference=2)
    acc = log.accuracy().to_numpy()  # 1 - mean(losses): rounded another way than the counts over N
    truth = acc - acc[2]
    assert ((out.ci_low <= truth) & (truth <= out.ci_high)).all()
    assert ((out.accuracy_ci_low <= acc) & (acc <= out.accuracy_ci_high)).all()
    assert (out.ci_high - out.ci_low).max() <= 8 * np.finfo(float).eps
    assert out.loc[2, "ci_low"] == out.loc[2, "ci_high"] == 0.0  # the reference against itself


def test_bernstein_refusal_names_the_missing_support_not_a_given_behavior_dist():
    n = 100
    a = np.arange(n) % 2
    r = (np.arange(n) % 3 == 0).astype(float)
    log = BanditLog(action=a, reward=r, propensity=np.full(n, 0.5), n_actions=3,
                    behavior_dist=np.tile([0.5, 0.5, 0.0], (n, 1)))  # action 2 is never logged
    with pytest.raises(ValidationError, match="actions the logging policy never takes") as err:
        evaluate_policy(log, np.full((n, 3), 1 / 3), estimators=["ips"], interval="bernstein", warn=False)
    assert "qualifies when the log's behavior_dist is given" not in str(err.value)
    frame = pd.DataFrame({"action": a, "reward": r, "propensity": 0.5, "pi_0": 1 / 3, "pi_1": 1 / 3, "pi_2": 1 / 3,
                          "b0": 0.5, "b1": 0.5, "b2": 0.0})
    with pytest.raises(ValidationError, match="actions the logging policy never takes"):
        evaluate_policy(frame, ["pi_0", "pi_1", "pi_2"], ["ips"], interval="bernstein", behavior=["b0", "b1", "b2"],
                        reward_range=(0, 1), warn=False)
    # on the logger's support the bound exists
    ok = evaluate_policy(log, np.tile([0.5, 0.5, 0.0], (n, 1)), estimators=["ips"], interval="bernstein", warn=False)
    assert np.isfinite(ok[["ci_low", "ci_high"]].to_numpy()).all()


def test_coda_look_ahead_chunks_do_not_change_the_trace(monkeypatch):
    # the chunk now shrinks with C x H (memory); one candidate per chunk must give the same run
    from workbench.active import selection
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(6) * 0.3, size=(10, 150))
    y = rng.integers(0, 6, 150)
    a = select_model(P, y, 8, strategy="coda", random_state=1)
    monkeypatch.setattr(selection, "_CODA_CHUNK_ELEMENTS", 1)
    b = select_model(P, y, 8, strategy="coda", random_state=1)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.prob_best, b.prob_best)
