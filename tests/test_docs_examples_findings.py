"""Input checks found missing while writing the docstring examples (each test fails on the code before)."""
from __future__ import annotations

import numpy as np
import pytest

from workbench._validation import ValidationError

PROBS = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.2, 0.8], [0.5, 0.5]]])


@pytest.mark.parametrize("y, loss, match", [
    (np.array([0, -1]), "cross_entropy", r"y: must be in \[0, 2\).*row 1"),  # an unlabelled marker was scored as class 1
    (np.array([0, 2]), "zero_one", r"y: must be in \[0, 2\)"),
    (np.array([1]), "zero_one", "y: must have one value per point"),  # was broadcast to every point
    (np.array([0.5, 1.0]), "zero_one", "non-integral"),
    (np.array([0.0, np.nan]), "squared", "NaN"),
])
def test_loss_matrix_refuses_bad_labels(y, loss, match):
    from workbench.data import loss_matrix

    with pytest.raises(ValidationError, match=match):
        loss_matrix(PROBS, y, loss)


def test_loss_matrix_accepts_lists_and_integral_floats():
    from workbench.data import loss_matrix

    expected = np.array([[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(loss_matrix(PROBS, [0, 1]), expected)  # was a TypeError
    np.testing.assert_allclose(loss_matrix(PROBS, np.array([0.0, 1.0]), "cross_entropy"),  # was an IndexError
                               -np.log([[0.9, 0.6], [0.2, 0.5]]))
    with pytest.raises(ValidationError, match="y: must be finite"):
        loss_matrix(np.array([[1.0, 2.5]]), [1.0, np.nan], "absolute")


def _stream_with_labels(y_fn):
    from workbench.data import DriftingStream, simulate_drifting_stream

    s = simulate_drifting_stream(n_periods=4, points_per_period=100, random_state=0)
    return DriftingStream(s.X, y_fn(s), s.period, s.concept, s.corrupted)


def test_train_historical_models_names_skipped_periods():
    from workbench.data import train_historical_models

    s = _stream_with_labels(lambda s: np.where(s.period == 0, 1, s.y))
    with pytest.warns(RuntimeWarning, match="1 of 3 periods skipped.*period 0"):
        log, available_from = train_historical_models(s)
    assert log.model_names == ("trained_p1", "trained_p2") and available_from.tolist() == [2, 3]
    with pytest.raises(ValidationError, match="stream: every training window holds a single class"):
        train_historical_models(_stream_with_labels(lambda s: np.ones_like(s.y)))  # was numpy's "need at least one array"


def test_task_suite_takes_one_name(tmp_path):
    from workbench.active import task_suite

    tasks = task_suite("breast_cancer", n_models=2, cache_dir=tmp_path)  # was read letter by letter
    assert [t.name for t in tasks] == ["breast_cancer"]


def test_geometric_consensus_refuses_text_clip():
    from workbench.active import geometric_consensus

    with pytest.raises(ValidationError, match="clip"):
        geometric_consensus(PROBS, clip="0.5")


def test_within_one_point_counts_a_gap_of_exactly_one_point():
    from workbench.active import SelectionTask
    from workbench.data import PredictionLog

    # accuracies 0.13 and 0.12 on 100 points: 0.12 < 0.13 - 0.01 = 0.12000000000000001 in floating point
    y = np.zeros(100, int)
    preds = np.ones((2, 100), int)
    preds[0, :13] = 0
    preds[1, :12] = 0
    zoo = PredictionLog(probs=np.eye(2)[preds], labels=y)
    task = SelectionTask(name="toy", zoo=zoo, dataset="synthetic", shift=None)
    assert task.difficulty()["n_within_1pt"] == 2
