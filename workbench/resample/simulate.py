"""Simulations used to check (and to teach) the comparison tests: CV fold scores under a true null."""
from __future__ import annotations

import numpy as np

from .._random import check_random_state
from .._validation import ValidationError, check_int

__all__ = ["null_cv_scores"]


def null_cv_scores(n_datasets: int, n: int = 100, n_splits: int = 10, n_repeats: int = 10, random_state=None):
    """Fold scores (test MSE) of two exchangeable algorithms on ``n_datasets`` independent data sets.

    Each data set has y = x1 + x2 + e (x1, x2, e standard normal); algorithm A is least squares
    of y on x1, algorithm B on x2, so their expected performance is equal: a true null for every
    two-algorithm test. Fold assignments are drawn independently per data set and repetition.
    Vectorised over data sets, repetitions and folds (closed-form one-feature OLS with intercept),
    so thousands of null data sets take about a second.

    Returns
    -------
    scores_a, scores_b : arrays of shape (n_datasets, n_repeats * n_splits), ordered repetition by
        repetition (the order the 5x2cv tests expect).

    Examples
    --------
    The size of the corrected and the naive resampled t-test on 200 null data sets (10x10 CV):

    >>> import numpy as np
    >>> from workbench.resample import corrected_resampled_t_test, null_cv_scores
    >>> A, B = null_cv_scores(200, n=50, n_splits=10, n_repeats=10, random_state=0)
    >>> A.shape, B.shape
    ((200, 100), (200, 100))
    >>> p = [corrected_resampled_t_test(a, b, n_train=45, n_test=5).p_value for a, b in zip(A, B)]
    >>> p_naive = [corrected_resampled_t_test(a, b, corrected=False).p_value for a, b in zip(A, B)]
    >>> float(np.mean(np.array(p) < 0.05)), float(np.mean(np.array(p_naive) < 0.05))
    (0.045, 0.585)
    """
    # Integers by name: int(2.5) would silently simulate 2 data sets, and with one split there is no
    # training data (every score was NaN, silently).
    R = check_int(n_datasets, "n_datasets", low=1)
    n_splits = check_int(n_splits, "n_splits", low=2)
    n_repeats = check_int(n_repeats, "n_repeats", low=1)
    n = check_int(n, "n", low=n_splits)
    if n % n_splits:
        raise ValidationError("n", f"must be a multiple of n_splits ({n_splits}), got {n}")
    if n - n // n_splits < 2:  # a regression line with an intercept needs 2 training points
        raise ValidationError("n", f"must leave at least 2 training points per fold, got n={n} with "
                                   f"n_splits={n_splits}")
    rng = check_random_state(random_state)
    X1, X2 = rng.normal(size=(R, n)), rng.normal(size=(R, n))
    Y = X1 + X2 + rng.normal(size=(R, n))
    perm = rng.permuted(np.tile(np.arange(n), (R, n_repeats, 1)), axis=-1)
    shape = (R, n_repeats, n_splits, n // n_splits)
    m = n - n // n_splits
    out = []
    yt = np.take_along_axis(Y[:, None, :], perm, axis=-1).reshape(shape)
    for X in (X1, X2):
        xt = np.take_along_axis(X[:, None, :], perm, axis=-1).reshape(shape)
        # Training sums = totals minus the test fold's sums.
        Sx = X.sum(1)[:, None, None] - xt.sum(-1)
        Sy = Y.sum(1)[:, None, None] - yt.sum(-1)
        Sxx = (X * X).sum(1)[:, None, None] - (xt * xt).sum(-1)
        Sxy = (X * Y).sum(1)[:, None, None] - (xt * yt).sum(-1)
        slope = (Sxy - Sx * Sy / m) / (Sxx - Sx**2 / m)
        icpt = (Sy - slope * Sx) / m
        mse = ((yt - icpt[..., None] - slope[..., None] * xt) ** 2).mean(-1)
        out.append(mse.reshape(R, n_repeats * n_splits))
    return out[0], out[1]
