"""consensus_accuracy: each model's label-free expected pool accuracy if labels followed the zoo's consensus.

Hand-computed values on a two-model zoo for both pools, the expression notebook 06 used before the
function existed, auto's prior built from the same numbers, the input checks select_model makes,
and PredictionLog input.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.active import consensus_accuracy, geometric_consensus, load_task, select_model
from workbench.data import PredictionLog

# Two models, two points, two classes. Point 0: A says [0.9, 0.1], B says [0.2, 0.8]; point 1: both [0.2, 0.8].
# Geometric pool at point 0: sqrt(0.9 * 0.2) : sqrt(0.1 * 0.8) = 0.18**0.5 : 0.08**0.5 = 3 : 2 -> [0.6, 0.4];
# at point 1 the pool of two equal rows is that row, [0.2, 0.8]. A predicts (0, 1), B predicts (1, 1), so
#   geometric:  A = (0.6 + 0.8) / 2 = 0.7,    B = (0.4 + 0.8) / 2 = 0.6
#   arithmetic: point 0 averages to [0.55, 0.45]; A = (0.55 + 0.8) / 2 = 0.675, B = (0.45 + 0.8) / 2 = 0.625
TINY = np.array([[[0.9, 0.1], [0.2, 0.8]],
                 [[0.2, 0.8], [0.2, 0.8]]])


@pytest.mark.parametrize("pool, expected", [("geometric", [0.7, 0.6]), ("arithmetic", [0.675, 0.625])])
def test_hand_computed_values_on_a_tiny_zoo(pool, expected):
    ea = consensus_accuracy(TINY, pool=pool)
    assert isinstance(ea, pd.Series) and ea.name == "consensus_accuracy"
    assert list(ea.index) == ["model_0", "model_1"]  # the names PredictionLog gives an array's models
    np.testing.assert_allclose(ea.to_numpy(), expected, rtol=0, atol=1e-12)


def test_default_pool_is_geometric():
    assert consensus_accuracy(TINY).equals(consensus_accuracy(TINY, pool="geometric"))


def test_a_confident_model_vetoes_a_class_in_the_geometric_pool_only():
    # model c gives class 0 probability 0: under the geometric pool model a (predicting class 0) is almost
    # never right (the veto is bounded by the 1e-6 clip), under the zoo average it keeps 0.7 / 3
    probs = np.array([[[0.7, 0.2, 0.1]], [[0.1, 0.5, 0.4]], [[0.0, 0.3, 0.7]]])
    geo = consensus_accuracy(probs).to_numpy()
    ari = consensus_accuracy(probs, pool="arithmetic").to_numpy()
    np.testing.assert_allclose(ari, [0.8 / 3, 1.0 / 3, 1.2 / 3], rtol=0, atol=1e-12)
    assert geo[0] < 0.01 and geo[1] > geo[2] > 0.45
    assert ari.argmax() == 2 and geo.argmax() == 1  # the two pools rank the zoo differently


def test_equals_the_expression_notebook_06_used_and_autos_prior():
    task = load_task("synthetic_prior")
    P = task.zoo.probs
    g = geometric_consensus(P)
    by_hand = np.take_along_axis(g[None], P.argmax(2)[..., None], axis=2)[..., 0].mean(1)
    ea = consensus_accuracy(task.zoo)
    assert np.array_equal(ea.to_numpy(), by_hand)  # bit for bit: the same computation
    assert list(ea.index) == list(task.zoo.model_names)
    arithmetic = np.take_along_axis(P.mean(0)[None], P.argmax(2)[..., None], axis=2)[..., 0].mean(1)
    assert np.array_equal(consensus_accuracy(P, pool="arithmetic").to_numpy(), arithmetic)

    # auto's prior is log(gamma) * prior_labels * (ea - max ea) for these very values
    from workbench.active.selection import _make_strategy, _Zoo

    auto = _make_strategy(_Zoo(P), np.random.default_rng(0), 10, "auto", {"eps": 0.4})
    expected = auto.log_gamma * auto.prior_labels * (ea.to_numpy() - ea.max())
    assert auto.prior_labels > 0
    assert np.array_equal(auto.prior, expected)


def test_prediction_log_input_names_the_models_and_ignores_labels():
    names = ["forest", "logit"]
    log = PredictionLog(probs=TINY, model_names=names)
    labelled = PredictionLog(probs=TINY, model_names=names, labels=[1, 0])  # labels would make A 0.5 and B 0.5
    for pool in ("geometric", "arithmetic"):
        ea = consensus_accuracy(log, pool=pool)
        assert list(ea.index) == names
        np.testing.assert_array_equal(ea.to_numpy(), consensus_accuracy(TINY, pool=pool).to_numpy())
        assert consensus_accuracy(labelled, pool=pool).equals(ea)


@pytest.mark.parametrize("pool", ["harmonic", "Geometric", "", None, ["geometric"]])
def test_an_unknown_pool_is_named(pool):
    with pytest.raises(ValidationError, match=r"pool: must be one of \['geometric', 'arithmetic'\], got "):
        consensus_accuracy(TINY, pool=pool)


def test_nan_probabilities_are_refused_as_select_model_refuses_them():
    probs = TINY.copy()
    probs[1, 0] = np.nan
    with pytest.raises(ValidationError) as from_selection:
        select_model(probs, np.array([0, 1]), 1, strategy="random", random_state=0)
    with pytest.raises(ValidationError) as from_consensus:
        consensus_accuracy(probs)
    assert str(from_consensus.value) == str(from_selection.value)
    assert "finite" in str(from_consensus.value) and "model 1, point 0" in str(from_consensus.value)


@pytest.mark.parametrize("bad, rule", [
    (np.array([[[0.9, 0.2]], [[0.5, 0.5]]]), "sum"),  # a row that does not sum to 1
    (np.array([[[1.2, -0.2]], [[0.5, 0.5]]]), "[0, 1]"),  # outside [0, 1]
    (np.ones((2, 2)), "3"),  # not (n_models, n_points, n_classes)
])
def test_other_bad_probabilities_are_refused(bad, rule):
    with pytest.raises(ValidationError, match=r"prediction_log|probs") as err:
        consensus_accuracy(bad)
    assert rule in str(err.value)


def test_a_prediction_log_without_probabilities_is_refused():
    log = PredictionLog(predictions=np.array([[0, 1], [1, 1]]))
    with pytest.raises(ValidationError, match="class probabilities"):
        consensus_accuracy(log)
