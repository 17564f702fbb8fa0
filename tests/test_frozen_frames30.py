"""Frozen results with pandas fields: editing a field that was read leaves the result as it was made.

``frozen=True`` only stops rebinding; before, ``result.summary.loc[0, "x"] = ...`` edited the result in place
(its repr, to_frame and every later reader)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from workbench.active import benchmark_selection
from workbench.data import simulate_routing
from workbench.resample import compare_models, friedman_test, model_confidence_set, repeated_cv


def _frame_fields(result):
    return {k: v for k, v in vars(result).items() if isinstance(v, (pd.DataFrame, pd.Series))}


def _results():
    rng = np.random.default_rng(0)
    losses = rng.random((60, 3)) + np.array([0.0, 0.05, 0.1])
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + rng.normal(size=60) > 0).astype(int)
    P = rng.dirichlet(np.ones(3), size=(3, 40))
    labels = rng.integers(0, 3, 40)
    return {
        "compare_models": compare_models(losses, n_resamples=99, random_state=0),
        "model_confidence_set": model_confidence_set(losses, n_resamples=99, random_state=0),
        "friedman_test": friedman_test(rng.random((8, 3))),
        "repeated_cv": repeated_cv(LogisticRegression(), X, y, n_splits=3, n_repeats=2, random_state=0),
        "benchmark_selection": benchmark_selection([("toy", _log(P, labels))], ["random"], budgets=5, seeds=2,
                                                   n_jobs=1),
        "simulate_routing": simulate_routing(50, random_state=0)[0],  # the RoutingLog
    }


def _log(P, labels):
    from workbench.data import PredictionLog

    return PredictionLog(probs=P, labels=labels)


@pytest.fixture(scope="module")
def results():
    return _results()


@pytest.mark.parametrize("name", ["compare_models", "model_confidence_set", "friedman_test", "repeated_cv",
                                  "benchmark_selection", "simulate_routing"])
def test_editing_a_read_frame_leaves_the_result_unchanged(results, name):
    result = results[name]
    fields = _frame_fields(result)
    assert fields, f"{name}: no pandas field to check"
    before_repr = repr(result)
    for field, original in fields.items():
        kept = original.copy(deep=True)
        got = getattr(result, field)
        assert got is not original
        pd.testing.assert_frame_equal(got, kept) if isinstance(got, pd.DataFrame) else \
            pd.testing.assert_series_equal(got, kept)
        # every kind of in-place edit a user might make
        if isinstance(got, pd.DataFrame):
            num = got.select_dtypes("number").columns
            if len(num) and len(got):
                got.loc[got.index[0], num[0]] = -12345.0
            del got[got.columns[0]]
            got["added_by_user"] = 1
        elif len(got):
            got.iloc[0] = None
        again = getattr(result, field)
        if isinstance(again, pd.DataFrame):
            pd.testing.assert_frame_equal(again, kept)
        else:
            pd.testing.assert_series_equal(again, kept)
    assert repr(result) == before_repr


def test_only_pandas_fields_are_copied(results):
    # numpy fields are read-only already and are handed out as they are (a copy per read would cost for nothing)
    r = results["repeated_cv"]
    assert isinstance(r.scores, np.ndarray) and r.scores is r.scores and not r.scores.flags.writeable
    assert r.intervals is not r.intervals
