"""A scorer that raises in a worker process (n_jobs=2) is named in the warning, as in one process.

scikit-learn's "Scoring failed" warning stays in the worker, so the folds were reported as "the scorer gave
NaN (or raised in a worker process: run with n_jobs=None ...)". The first such folds are now re-run in the
calling process to tell a raising scorer (its error named) from one that returns NaN (said plainly).
"""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from workbench.resample import nested_cv, repeated_cv


def _broken_scorer(est, X, y):
    raise RuntimeError("my scorer broke")


def _runtime_messages(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_a_scorer_error_is_named_whatever_the_process(n_jobs):
    X, y = _data()
    res, msgs = _runtime_messages(lambda: repeated_cv(LogisticRegression(), X, y, scoring=_broken_scorer, cv=3,
                                                      n_repeats=1, random_state=0, n_jobs=n_jobs))
    assert any("scorer raised; first error (fold 0): RuntimeError: my scorer broke" in m for m in msgs), msgs
    assert res.diagnostics["first_score_error"] == "RuntimeError: my scorer broke"
    assert res.diagnostics["failed_scores"] == 3 and res.diagnostics["failed_fits"] == 0


def test_nested_cv_names_a_worker_scorer_error_too():
    X, y = _data()
    res, msgs = _runtime_messages(lambda: nested_cv({"lr": LogisticRegression()}, X, y, scoring=_broken_scorer,
                                                    outer_cv=3, random_state=0, n_jobs=2))
    assert any("RuntimeError: my scorer broke" in m for m in msgs), msgs


def test_a_scorer_that_returns_nan_in_a_worker_is_said_to_return_nan():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(4, 1)), rng.normal(size=4)  # R^2 on one-row test folds is NaN, not an error
    res, msgs = _runtime_messages(lambda: repeated_cv(LinearRegression(), X, y, scoring="r2", cv=4, n_repeats=1,
                                                      n_jobs=2))
    nan_msgs = [m for m in msgs if "have no score" in m]
    assert nan_msgs and "the scorer gave NaN (fold 0)" in nan_msgs[0]
    assert "raised in a worker" not in nan_msgs[0]
    assert res.diagnostics["first_score_error"] is None
