"""Regression tests for small follow-ups found by audits (one block per item)."""
from __future__ import annotations

import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.resample import bootstrap_intervals


# 1. bootstrap_intervals(methods=["bca", "bca"]) returned the bca rows twice.
def test_bootstrap_intervals_refuses_repeated_methods():
    x = np.random.default_rng(0).normal(size=40)
    with pytest.raises(ValidationError, match=r"methods: names must be unique.*repeated: \['bca'\]") as err:
        bootstrap_intervals(x, methods=["bca", "percentile", "bca"], n_resamples=99, random_state=0)
    assert err.value.field == "methods"
    # distinct methods still give one row each
    out = bootstrap_intervals(x, methods=["bca", "percentile"], n_resamples=99, random_state=0)
    assert out["method"].tolist() == ["bca", "percentile"]


# 2. repeated_cv(cv=RepeatedStratifiedKFold(n_splits=2, n_repeats=5)) gave one row of 10 scores, which the
#    5x2cv tests refused (they read (5, 2) as replication x fold); repeated_cv(n_splits=2, n_repeats=5) worked.
def test_repeated_cv_shapes_sklearn_repeated_splitters_for_5x2cv():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold
    from sklearn.tree import DecisionTreeClassifier

    from workbench.resample import f_test_5x2cv, paired_t_5x2cv, repeated_cv
    from workbench.resample.cv import _cv_seed

    X, y = load_breast_cancer(return_X_y=True)
    a, b = DecisionTreeClassifier(max_depth=1, random_state=0), DecisionTreeClassifier(max_depth=3, random_state=0)
    # the n_splits / n_repeats route: its splitter is RepeatedStratifiedKFold with seed _cv_seed(random_state)
    ra = repeated_cv(a, X, y, n_splits=2, n_repeats=5, random_state=0)
    rb = repeated_cv(b, X, y, n_splits=2, n_repeats=5, random_state=0)
    cv = RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=_cv_seed(0))
    ca, cb = repeated_cv(a, X, y, cv=cv), repeated_cv(b, X, y, cv=cv)
    assert ca.scores.shape == (5, 2)
    np.testing.assert_array_equal(ca.scores, ra.scores)  # same splits: identical numbers, same layout
    np.testing.assert_array_equal(cb.scores, rb.scores)
    for test in (paired_t_5x2cv, f_test_5x2cv):
        via_cv, via_args = test(ca, cb), test(ra, rb)
        assert (via_cv.statistic, via_cv.p_value) == (via_args.statistic, via_args.p_value)
    # RepeatedKFold (a regressor's default) is shaped the same way; other splitters keep one row
    Xr, yr = X[:, :5], X[:, 5]
    assert repeated_cv(Ridge(), Xr, yr, cv=RepeatedKFold(n_splits=3, n_repeats=4, random_state=1)).scores.shape \
        == (4, 3)
    assert repeated_cv(Ridge(), Xr, yr, cv=KFold(n_splits=4)).scores.shape == (1, 4)
